"""The anchorer: turns the log's growth into on-chain checkpoints.

A checkpoint is due when ``max_leaves`` new leaves are waiting, or when the
oldest waiting leaf is ``max_delay`` seconds old. The chain's latest
checkpoint is the base of each new one (the contract checks the consistency
proof against it), so the chain, not this process, is the source of truth.

Crash safety: the checkpoint row is committed as ``pending`` before its
transaction is sent; :meth:`Anchorer.reconcile` settles pending rows against
the chain on start and after any failed round. A chain outage only delays
anchoring: capture never waits for the chain, and the next checkpoint covers
everything since.

Reorganisations: a checkpoint whose block the chain drops before it is final
(anvil's snapshot/revert in tests; never on QBFT, whose blocks are final at
once) leaves an ``anchored`` row larger than the chain's latest checkpoint.
Each round compares the two; such rows are forgotten and the log is anchored
again from the checkpoint the chain does hold, so no size is skipped and none
is recorded twice.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3.contract import Contract

from ledger.anchor.errors import AnchorConflictError, CheckpointsLostError
from ledger.anchor.lease import AnchorLease
from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.chain.base import Chain
from ledger.errors import LedgerError
from ledger.index.db import write_session
from ledger.log.models import LogLeaf
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MerkleLog
from ledger.metrics import ANCHOR_LEASE_HELD, CHECKPOINTS_ANCHORED

logger = logging.getLogger(__name__)

# How old (in chain time) a checkpoint may be and still vanish in a
# reorganisation. QBFT never reorganises; proof-of-work and proof-of-stake
# chains settle within minutes. Older checkpoints missing mean a reset chain.
REORG_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AnchorPolicy:
    """When to anchor. The defaults keep an accepted record under 5 s from
    being anchored on the embedded chain (one anchoring transaction there takes
    tens of milliseconds)."""

    max_leaves: int = 10_000
    max_delay: float = 2.0
    poll_interval: float = 0.25


@dataclass(frozen=True)
class ChainCheckpoint:
    tree_size: int
    root_hash: bytes


class Anchorer:
    def __init__(self, *, engine: Engine, chain: Chain, anchor: Contract, sender: LocalAccount, policy: AnchorPolicy | None = None) -> None:
        self.engine = engine
        self.chain = chain
        self.anchor = anchor
        self.sender = sender
        self.policy = policy or AnchorPolicy()

    # -- reading the chain ----------------------------------------------

    def chain_latest(self) -> ChainCheckpoint:
        count = self.chain.call(self.anchor.functions.checkpointCount())
        if count == 0:
            return ChainCheckpoint(0, b"")
        latest = self.chain.call(self.anchor.functions.latestCheckpoint())
        return ChainCheckpoint(latest[0], bytes(latest[1]))

    def _chain_checkpoint_of_size(self, size: int) -> ChainCheckpoint | None:
        from ledger.chain.reverts import ContractRevertError

        try:
            found = self.chain.call(self.anchor.functions.checkpointOfSize(size))
        except ContractRevertError as exc:
            if exc.error_name == "Anchor__UnknownCheckpoint":
                return None
            raise
        return ChainCheckpoint(found[0], bytes(found[1]))

    # -- the work -------------------------------------------------------

    def reconcile(self) -> int:
        """Settle ``pending`` rows left by a crash; return how many were settled.

        A pending checkpoint the chain holds becomes ``anchored`` (with its
        transaction, found from the contract's event); one the chain lacks is
        deleted, to be re-derived from the log by the next :meth:`anchor_once`.
        """
        settled = 0
        with write_session(self.engine) as session:
            pending = session.exec(select(Checkpoint).where(Checkpoint.status == CheckpointStatus.PENDING)).all()
            for row in pending:
                on_chain = self._chain_checkpoint_of_size(row.tree_size)
                if on_chain is None:
                    session.delete(row)
                elif on_chain.root_hash != row.root_hash:
                    raise AnchorConflictError(row.tree_size, row.root_hash, on_chain.root_hash)
                else:
                    self._mark_anchored(row, self._find_anchoring_event(row.tree_size))
                settled += 1
        return settled

    def due(self, base_size: int, log_size: int) -> bool:
        waiting = log_size - base_size
        if waiting <= 0:
            return False
        if waiting >= self.policy.max_leaves:
            return True
        with Session(self.engine) as session:
            oldest = session.exec(select(LogLeaf.created_at).where(LogLeaf.index == base_size)).first()
        if oldest is None:
            return True
        if oldest.tzinfo is None:  # SQLite returns naive datetimes
            oldest = oldest.replace(tzinfo=UTC)
        return (datetime.now(UTC) - oldest).total_seconds() >= self.policy.max_delay

    def forget_dropped(self, base: ChainCheckpoint) -> list[int]:
        """Delete the ``anchored`` rows larger than ``base`` (the chain's latest
        checkpoint); return their sizes.

        The contract only accepts growing checkpoints, so such a row cannot be
        on chain: a reorganisation dropped its block. The transactions dropped
        with it took the sender's nonces along, so the next nonce is re-read
        from the node instead of continuing the cached count (which would
        leave every later transaction queued behind a gap). Rows older than
        :data:`REORG_WINDOW` are kept and :class:`CheckpointsLostError` raised.
        """
        anchored = Checkpoint.status == CheckpointStatus.ANCHORED
        with Session(self.engine) as session:  # a read first: this runs every round
            newest = session.exec(select(sa.func.max(Checkpoint.tree_size)).where(anchored)).one()
        if newest is None or newest <= base.tree_size:
            return []
        head = self.chain._guard(lambda: self.chain.w3.eth.get_block("latest"))
        head_time = datetime.fromtimestamp(head["timestamp"], UTC)
        with write_session(self.engine) as session:
            dropped = session.exec(select(Checkpoint).where(anchored, Checkpoint.tree_size > base.tree_size)).all()
            sizes = [row.tree_size for row in dropped]
            settled = [row.tree_size for row in dropped if row.anchored_at and head_time - _utc(row.anchored_at) > REORG_WINDOW]
            if settled:
                raise CheckpointsLostError(settled, base.tree_size, REORG_WINDOW.total_seconds() / 3600)
            for row in dropped:
                session.delete(row)
        # Chain exposes no public way to re-read one sender's nonce; the book is
        # the adapter's, and forgetting an entry only costs one query.
        self.chain.forget_nonce(self.sender.address)
        logger.warning("chain reorganised: checkpoints of size %s are no longer on chain (its latest is %d); re-anchoring",
                       sizes, base.tree_size)
        return sizes

    def anchor_once(self, *, force: bool = False) -> Checkpoint | None:
        """Anchor the whole current log if a checkpoint is due (or ``force``)."""
        base = self.chain_latest()
        self.forget_dropped(base)
        with Session(self.engine) as session:
            log = MerkleLog(SqlNodeStore(session))
            size = log.size()
            if size <= base.tree_size or not (force or self.due(base.tree_size, size)):
                return None
            if base.tree_size and log.root(base.tree_size) != base.root_hash:
                raise AnchorConflictError(base.tree_size, log.root(base.tree_size), base.root_hash)
            root = log.root(size)
            proof = log.consistency_proof(base.tree_size, size) if base.tree_size else []
        with write_session(self.engine) as session:
            session.merge(Checkpoint(
                tree_size=size,
                root_hash=root,
                previous_size=base.tree_size,
                status=CheckpointStatus.PENDING,
                chain_id=self.chain.chain_id,
                contract_address=self.anchor.address,
            ))
        receipt = self.chain.transact(self.anchor.functions.anchor(size, root, proof), sender=self.sender)
        event = self.anchor.events.CheckpointAnchored().process_receipt(receipt)[0]
        with write_session(self.engine) as session:
            row = session.get(Checkpoint, size)
            assert row is not None
            self._mark_anchored(row, event)
            session.flush()
            session.expunge(row)
        logger.info("anchored checkpoint size=%d root=%s tx=%s", size, root.hex(), row.tx_hash)
        CHECKPOINTS_ANCHORED.inc()
        return row

    def _find_anchoring_event(self, tree_size: int):  # type: ignore[no-untyped-def]
        for event in self.chain._guard(lambda: self.anchor.events.CheckpointAnchored().get_logs(from_block=0)):
            if event["args"]["treeSize"] == tree_size:
                return event
        raise LedgerError(f"checkpoint of size {tree_size} is on chain but its CheckpointAnchored event was not found")

    def _mark_anchored(self, row: Checkpoint, event) -> None:  # type: ignore[no-untyped-def]
        block = self.chain._guard(lambda: self.chain.w3.eth.get_block(event["blockNumber"]))
        row.status = CheckpointStatus.ANCHORED
        row.sequence = event["args"]["sequence"]
        row.tx_hash = "0x" + bytes(event["transactionHash"]).hex()
        row.block_number = event["blockNumber"]
        row.block_hash = "0x" + bytes(block["hash"]).hex()
        row.anchored_at = datetime.fromtimestamp(block["timestamp"], UTC)

    def run(self, stop: threading.Event, lease: AnchorLease) -> None:
        """Anchor until ``stop`` is set, while holding ``lease``; failures are
        logged and retried with backoff, so an outage only delays. A failed
        round may leave a ``pending`` row (say, a receipt that timed out), so
        the next round reconciles first, as a restart would."""
        backoff = self.policy.poll_interval
        reconciled = False
        while not stop.is_set():
            if not lease.acquire():
                ANCHOR_LEASE_HELD.set(0)
                reconciled = False  # whoever held it meanwhile may have left a pending row
                stop.wait(1.0)
                continue
            ANCHOR_LEASE_HELD.set(1)
            try:
                if not reconciled:
                    self.reconcile()
                    reconciled = True
                self.anchor_once()
                backoff = self.policy.poll_interval
            except LedgerError as exc:
                logger.warning("anchoring postponed: %s", exc)
                reconciled, backoff = False, min(backoff * 2, 10.0)
            except sa.exc.SQLAlchemyError as exc:
                logger.warning("anchoring postponed, index unavailable: %s", exc)
                reconciled, backoff = False, min(backoff * 2, 10.0)
            except Exception:  # a bug or an unforeseen answer must not end anchoring for the process's life
                logger.exception("anchoring postponed by an unexpected error")
                reconciled, backoff = False, min(backoff * 2, 10.0)
            stop.wait(backoff)
        lease.release()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive datetimes


def wait_until_anchored(anchorer: Anchorer, size: int, timeout: float = 30.0) -> None:
    """Test and demo helper: block until the chain's checkpoint covers ``size``."""
    deadline = time.monotonic() + timeout
    while anchorer.chain_latest().tree_size < size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"log size {size} not anchored within {timeout}s")
        time.sleep(0.05)
