"""Evidence bundles: one JSON file that proves one record, checkable by anyone.

A bundle holds the record, its leaf hash, an inclusion proof to an anchored
checkpoint, and where that checkpoint lives on chain. Verifying it needs only
the bundle and a chain node: the record is re-hashed, the proof re-walked, and
the checkpoint's root read from the anchor contract itself. Nothing the
index or the API says is taken on trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlmodel import Session, col, select
from web3.contract import Contract

from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.chain.base import Chain
from ledger.chain.reverts import ContractRevertError
from ledger.errors import LedgerError, NotFoundError
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MerkleLog
from ledger.log.verify import verify_inclusion
from ledger.records.encoding import record_leaf_hash
from ledger.records.models import Record

BUNDLE_FORMAT = "traceledger-evidence/v1"


class BundleError(LedgerError):
    """An evidence bundle is malformed, or does not prove what it claims."""

    http_status = 422


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {
        "treeSize": cp.tree_size,
        "rootHash": "0x" + cp.root_hash.hex(),
        "status": cp.status,
        "chainId": cp.chain_id,
        "contract": cp.contract_address,
        "sequence": cp.sequence,
        "transactionHash": cp.tx_hash,
        "blockNumber": cp.block_number,
        "blockHash": cp.block_hash,
        "anchoredAt": cp.anchored_at.isoformat() if cp.anchored_at else None,
    }


def covering_checkpoint(session: Session, index: int) -> Checkpoint:
    """The first anchored checkpoint that includes leaf ``index``."""
    cp = session.exec(
        select(Checkpoint)
        .where(Checkpoint.status == CheckpointStatus.ANCHORED, Checkpoint.tree_size > index)
        .order_by(col(Checkpoint.tree_size))
    ).first()
    if cp is None:
        raise NotFoundError(f"record {index} is not anchored yet; anchoring runs every few seconds, retry shortly")
    return cp


def export_bundle(session: Session, index: int) -> dict[str, Any]:
    """The evidence bundle of record ``index`` against the latest anchored checkpoint."""
    record = session.get(Record, index)
    if record is None:
        raise NotFoundError(f"no record {index} in the log")
    covering_checkpoint(session, index)  # raises if not anchored at all
    latest = session.exec(
        select(Checkpoint).where(Checkpoint.status == CheckpointStatus.ANCHORED).order_by(col(Checkpoint.tree_size).desc())
    ).first()
    assert latest is not None
    log = MerkleLog(SqlNodeStore(session))
    return {
        "format": BUNDLE_FORMAT,
        "record": {"index": record.index, "kind": record.kind, "body": record.body},
        "leafHash": "0x" + record_leaf_hash(record.kind, record.body).hex(),
        "inclusionProof": ["0x" + h.hex() for h in log.inclusion_proof(index, latest.tree_size)],
        "checkpoint": checkpoint_json(latest),
    }


@dataclass(frozen=True)
class BundleVerdict:
    index: int
    tree_size: int
    root_hash: bytes
    block_number: int | None
    anchored_at_block: int
    chain_id: int

    def summary(self) -> str:
        return (
            f"record {self.index} is leaf {self.index} of the log of {self.tree_size} records whose root "
            f"0x{self.root_hash.hex()[:16]}… is anchored on chain {self.chain_id} (block {self.anchored_at_block})"
        )


def hex32(value: Any, field: str, *, error: type[LedgerError] = BundleError) -> bytes:
    """A 32-byte hash given as hex (``0x`` optional); raises ``error`` naming ``field`` otherwise."""
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raise error(f"{field} is not hex") from None
    if len(raw) != 32:
        raise error(f"{field} is {len(raw)} bytes, not 32")
    return raw


def _require_format(bundle: Any) -> None:
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        shown = bundle.get("format") if isinstance(bundle, dict) else type(bundle).__name__
        raise BundleError(f"not a traceledger evidence bundle (format {shown!r}, expected {BUNDLE_FORMAT!r})")


class UnknownCheckpointError(BundleError):
    """The anchor contract holds no checkpoint of the size a proof was made for."""


@dataclass(frozen=True)
class ChainCheckpoint:
    """A checkpoint as the anchor contract holds it (``ICheckpointAnchor.Checkpoint``)."""

    tree_size: int
    root_hash: bytes
    timestamp: int
    block_number: int
    submitter: str


def read_chain_checkpoint(chain: Chain, anchor: Contract, size: int) -> ChainCheckpoint:
    """The checkpoint of ``size`` read from ``anchor`` on ``chain``: never from an index or an API.

    Raises UnknownCheckpointError when that size was never anchored.
    """
    try:
        size_, root, timestamp, block_number, submitter = chain.call(anchor.functions.checkpointOfSize(size))
    except ContractRevertError as exc:
        if exc.error_name == "Anchor__UnknownCheckpoint":
            raise UnknownCheckpointError(f"the chain has no checkpoint of size {size}: it was never anchored") from None
        raise
    return ChainCheckpoint(int(size_), bytes(root), int(timestamp), int(block_number), str(submitter))


def prove_record_included(
    *, kind: str, body: str, index: int, size: int, proof: list[bytes], root: bytes, claimed_leaf: bytes | None = None
) -> bytes:
    """Re-hash a record into its leaf and walk its inclusion proof to ``root``; return the leaf hash.

    Raises BundleError when ``claimed_leaf`` (the leaf hash a server sent
    along) is not the record's, a ProofError when the proof does not lead to ``root``.
    """
    leaf = record_leaf_hash(kind, body)
    if claimed_leaf is not None and claimed_leaf != leaf:
        raise BundleError("the record does not hash to its leafHash: the record was altered")
    verify_inclusion(leaf, index, size, proof, root)
    return leaf


def verify_bundle(bundle: dict[str, Any], chain: Chain) -> BundleVerdict:
    """Check ``bundle`` against ``chain``, trusting the anchor contract the bundle names.

    Raises BundleError (or a LogError) naming what fails.
    """
    _require_format(bundle)
    try:
        contract_address, chain_id = str(bundle["checkpoint"]["contract"]), int(bundle["checkpoint"]["chainId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"bundle is missing or mangles a field: {exc}") from None
    if chain.chain_id != chain_id:
        raise BundleError(f"the bundle's checkpoint is on chain {chain_id}, but the node is on chain {chain.chain_id}")
    if not chain.code_at(contract_address):
        raise BundleError(f"no anchor contract at {contract_address} on chain {chain_id}")
    return verify_bundle_with_anchor(bundle, chain, chain.contract("CheckpointAnchor", contract_address))


def verify_bundle_with_anchor(bundle: dict[str, Any], chain: Chain, anchor: Contract) -> BundleVerdict:
    """Check ``bundle`` against the checkpoints of ``anchor``, an anchor contract the caller trusts.

    The record is re-hashed, its proof walked to the bundle's root, and that
    root compared with the one ``anchor`` holds for the bundle's tree size;
    the bundle's own ``checkpoint.contract`` is not consulted. Raises
    BundleError (or a LogError) naming what fails.
    """
    _require_format(bundle)
    try:
        record = bundle["record"]
        index, kind, body = int(record["index"]), str(record["kind"]), str(record["body"])
        cp = bundle["checkpoint"]
        size = int(cp["treeSize"])
        proof = [hex32(h, f"inclusionProof[{i}]") for i, h in enumerate(bundle["inclusionProof"])]
        claimed_root = hex32(cp["rootHash"], "checkpoint.rootHash")
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"bundle is missing or mangles a field: {exc}") from None

    claimed_leaf = hex32(bundle["leafHash"], "leafHash") if "leafHash" in bundle else None
    prove_record_included(
        kind=kind, body=body, index=index, size=size, proof=proof, root=claimed_root, claimed_leaf=claimed_leaf
    )
    on_chain = read_chain_checkpoint(chain, anchor, size)
    if on_chain.root_hash != claimed_root:
        raise BundleError(
            f"checkpoint {size}: the chain anchored root 0x{on_chain.root_hash.hex()}, "
            f"the bundle claims 0x{claimed_root.hex()}"
        )
    return BundleVerdict(index, size, on_chain.root_hash, cp.get("blockNumber"), on_chain.block_number, chain.chain_id)


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        # orjson refuses nesting past 1,024 levels; the stdlib parser could exhaust the C stack
        # (py-evm raises Python's recursion limit), killing the process on a hostile file.
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise BundleError(f"bundle file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise BundleError(f"bundle file {path} is not JSON: {exc}") from None
