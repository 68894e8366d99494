"""Checkpoints and proofs: what an auditor or a scanner needs to check a record
against the chain without trusting this server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import SessionDep
from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.bundle import checkpoint_json, export_bundle
from ledger.errors import LogError, NotFoundError
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MerkleLog

router = APIRouter(prefix="/v1", tags=["proofs"])

MAX_INDEX = 2**63 - 1
"""Largest leaf index or tree size a request may name: the index stores them as SQL BIGINT."""


class CheckpointPublic(BaseModel):
    treeSize: int
    rootHash: str
    status: str
    chainId: int
    contract: str
    sequence: int | None
    transactionHash: str | None
    blockNumber: int | None
    blockHash: str | None
    anchoredAt: str | None


class InclusionProofPublic(BaseModel):
    leafIndex: int
    treeSize: int
    leafHash: str
    rootHash: str
    proof: list[str]
    checkpoint: CheckpointPublic | None


class ConsistencyProofPublic(BaseModel):
    fromSize: int
    toSize: int
    fromRoot: str
    toRoot: str
    proof: list[str]


def _hex(values: list[bytes]) -> list[str]:
    return ["0x" + v.hex() for v in values]


def _anchored(session: SessionDep, size: int | None = None) -> Checkpoint:
    query = select(Checkpoint).where(Checkpoint.status == CheckpointStatus.ANCHORED)
    if size is None:
        cp = session.exec(query.order_by(col(Checkpoint.tree_size).desc())).first()
        if cp is None:
            raise NotFoundError("no checkpoint anchored yet; the anchorer runs every few seconds once records exist")
        return cp
    cp = session.exec(query.where(Checkpoint.tree_size == size)).first()
    if cp is None:
        raise NotFoundError(f"no anchored checkpoint of size {size}; GET /v1/checkpoints/latest for the newest")
    return cp


@router.get("/checkpoints/latest", response_model=CheckpointPublic, summary="The newest anchored checkpoint")
def latest_checkpoint(session: SessionDep) -> dict:
    return checkpoint_json(_anchored(session))


@router.get("/checkpoints/{size}", response_model=CheckpointPublic, summary="The anchored checkpoint of a tree size")
def checkpoint_of_size(size: Annotated[int, Path(ge=1, le=MAX_INDEX)], session: SessionDep) -> dict:
    return checkpoint_json(_anchored(session, size))


@router.get("/proofs/inclusion", response_model=InclusionProofPublic, summary="Inclusion proof of a leaf")
def inclusion_proof(
    session: SessionDep,
    leaf: Annotated[int, Query(ge=0, le=MAX_INDEX, description="Leaf (record) index, 0-based.")],
    size: Annotated[int | None, Query(ge=1, le=MAX_INDEX, description="Tree size; default: the latest anchored checkpoint.")] = None,
) -> dict:
    log = MerkleLog(SqlNodeStore(session))
    checkpoint = None
    if size is None:
        checkpoint = _anchored(session)
        size = checkpoint.tree_size
    else:
        checkpoint = session.get(Checkpoint, size)
    if leaf >= size:
        raise LogError(f"leaf: {leaf} is not in a tree of size {size} (indices 0..{size - 1})")
    leaf_hash = log.store.get_nodes([(0, leaf)])[0] if leaf < log.size() else None
    if leaf_hash is None:
        raise NotFoundError(f"leaf: no leaf {leaf} in the log")
    return {
        "leafIndex": leaf,
        "treeSize": size,
        "leafHash": "0x" + leaf_hash.hex(),
        "rootHash": "0x" + log.root(size).hex(),
        "proof": _hex(log.inclusion_proof(leaf, size)),
        "checkpoint": checkpoint_json(checkpoint) if checkpoint is not None else None,
    }


@router.get("/proofs/consistency", response_model=ConsistencyProofPublic, summary="Consistency proof between two sizes")
def consistency_proof(
    session: SessionDep,
    from_size: Annotated[int, Query(alias="from", ge=1, le=MAX_INDEX, description="The smaller tree size.")],
    to_size: Annotated[int, Query(alias="to", ge=1, le=MAX_INDEX, description="The larger tree size.")],
) -> dict:
    if from_size > to_size:
        raise LogError(f"from: {from_size} is larger than to ({to_size}); a log only grows")
    log = MerkleLog(SqlNodeStore(session))
    return {
        "fromSize": from_size,
        "toSize": to_size,
        "fromRoot": "0x" + log.root(from_size).hex(),
        "toRoot": "0x" + log.root(to_size).hex(),
        "proof": _hex(log.consistency_proof(from_size, to_size)),
    }


@router.get("/records/{index}/evidence", summary="Evidence bundle of a record (for `traceledger verify`)")
def record_evidence(index: Annotated[int, Path(ge=0, le=MAX_INDEX)], session: SessionDep) -> dict:
    return export_bundle(session, index)
