"""An index mirror of one contract's events: a speed-up, never the authority.

:meth:`EventMirror.sync` reads the contract's events from the block after
the cursor to the chain's head and stores them with the new cursor in one
transaction (a crash loses nothing; a re-run stores nothing twice: rows are
unique by contract, block hash and log index). Several processes may sync
against one index: a PostgreSQL advisory lock (SQLite: the write lock)
serialises them.

Reorgs: the cursor keeps its block's hash. If the chain's block at that
height has another hash, the mirror walks back over the blocks its stored
events came from to the newest one still on the chain, deletes the events
above it and reads again from there. Dropping the tables and syncing again
rebuilds the mirror from the chain alone.

A subclass names its events table and advisory lock, turns raw logs into
rows (:meth:`EventMirror.rows`) and may keep a projection current
(:meth:`EventMirror.project`, in the same transaction).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel
from web3.contract import Contract

from ledger.chain.base import Chain
from ledger.errors import LedgerError
from ledger.index.db import SQLITE_IMMEDIATE

logger = logging.getLogger(__name__)

LOG_PAGE_BLOCKS = 5_000
"""Blocks per ``eth_getLogs`` request (nodes cap the range or the answer size)."""


class ContractCursor(SQLModel, table=True):
    """The last block the mirror of one contract has read, and its hash."""

    __tablename__ = "contract_cursor"

    contract: str = Field(sa_column=sa.Column("contract", sa.String(42), primary_key=True))
    name: str | None = Field(default=None, sa_column=sa.Column("name", sa.String(64)))
    """The contract's name in the data dir manifest: which mirror this cursor is."""
    block_number: int = Field(sa_column=sa.Column("block_number", sa.BigInteger, nullable=False))
    block_hash: str = Field(sa_column=sa.Column("block_hash", sa.String(66), nullable=False))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


_cursor = ContractCursor.__table__


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    events: int
    rewound_to: int | None = None


def fetch_logs(
    chain: Chain, contract: Contract, from_block: int, to_block: int, topics: Sequence[Any]
) -> list[Any]:
    """Raw logs of ``contract`` in [from_block, to_block] matching ``topics``, page by page, in chain order."""
    logs: list[Any] = []
    start = from_block
    while start <= to_block:
        end = min(start + LOG_PAGE_BLOCKS - 1, to_block)
        query = {"address": contract.address, "fromBlock": start, "toBlock": end, "topics": list(topics)}
        logs.extend(chain._guard(lambda q=query: chain.w3.eth.get_logs(q)))
        start = end + 1
    return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))


def block_times(chain: Chain, numbers: Iterable[int]) -> dict[int, int]:
    """Block number -> timestamp, one request per distinct block."""
    return {n: chain._guard(lambda n=n: chain.w3.eth.get_block(n))["timestamp"] for n in sorted(set(numbers))}


def log_position(log: Any) -> dict[str, Any]:
    """The columns every mirrored event row has, from a raw log."""
    return {
        "block_number": log["blockNumber"],
        "block_hash": "0x" + bytes(log["blockHash"]).hex(),
        "tx_hash": "0x" + bytes(log["transactionHash"]).hex(),
        "log_index": log["logIndex"],
    }


class EventMirror:
    """The mirror of one contract, read from ``start_block`` on.

    Subclasses set ``contract_name``, ``table`` (the events table with ``contract``, ``block_number``,
    ``block_hash`` and ``log_index`` columns) and ``lock_id``, and implement
    :meth:`rows`.
    """

    table: ClassVar[sa.Table]
    lock_id: ClassVar[int]
    contract_name: ClassVar[str]

    def __init__(self, engine: Engine, chain: Chain, contract: Contract, *, start_block: int = 0) -> None:
        self.engine = engine
        self.chain = chain
        self.contract = contract
        self.start_block = start_block

    def rows(self, from_block: int, to_block: int) -> list[dict[str, Any]]:
        """The rows of the contract's events in [from_block, to_block], in chain order, without ``contract``."""
        raise NotImplementedError

    def project(self, conn: Connection, inserted: list[dict[str, Any]], removed: list[sa.Row]) -> None:
        """Keep a projection current, in the sync's transaction: ``removed`` are rows a reorg deleted."""

    def follow(self, stop_event: threading.Event, interval: float = 1.0) -> None:
        """Sync every ``interval`` seconds until ``stop_event`` is set; failures back off up to 30 s."""
        name = type(self).__name__
        failures = 0
        while not stop_event.is_set():
            try:
                report = self.sync()
                if report.events:
                    logger.info("%s: read %d event(s) up to block %d", name, report.events, report.to_block)
                failures = 0
            except LedgerError as error:
                failures += 1
                logger.warning("%s: sync failed (%s); retrying", name, error.message)
            except Exception:
                failures += 1
                logger.exception("%s: sync failed; retrying", name)
            stop_event.wait(min(interval * 2 ** min(failures, 5), 30.0) if failures else interval)

    def _begin(self) -> Connection:
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(**{SQLITE_IMMEDIATE: True})
        return conn

    def sync(self, *, until: int | None = None) -> SyncReport:
        """Bring the mirror to the chain's head (or to block ``until``, if lower); returns what was read."""
        address = self.contract.address
        with self._begin() as conn, conn.begin():
            if self.engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.lock_id})
            head = self.chain._guard(lambda: self.chain.w3.eth.get_block("latest"))
            if until is not None and until < head["number"]:
                head = self.chain._guard(lambda: self.chain.w3.eth.get_block(until))
            cursor = conn.execute(sa.select(_cursor.c.block_number, _cursor.c.block_hash)
                                  .where(_cursor.c.contract == address)).first()
            rewound_to = None
            removed: list[sa.Row] = []
            next_block = self.start_block
            if cursor is not None:
                if cursor.block_number <= head["number"] and self.chain.block_hash_at(cursor.block_number) == cursor.block_hash:
                    next_block = cursor.block_number + 1
                else:
                    rewound_to, removed = self._rewind(conn, address)
                    next_block = rewound_to + 1 if rewound_to is not None else self.start_block
            rows = self.rows(next_block, head["number"]) if next_block <= head["number"] else []
            for row in rows:
                row["contract"] = address
            if rows:
                conn.execute(sa.insert(self.table), rows)
            if rows or removed:
                self.project(conn, rows, removed)
            values = {"block_number": head["number"], "block_hash": "0x" + bytes(head["hash"]).hex(),
                      "updated_at": datetime.now(UTC)}
            if cursor is None:
                conn.execute(sa.insert(_cursor).values(contract=address, name=self.contract_name, **values))
            else:
                conn.execute(sa.update(_cursor).where(_cursor.c.contract == address).values(**values))
        return SyncReport(next_block, head["number"], len(rows), rewound_to)

    def _rewind(self, conn: Connection, address: str) -> tuple[int | None, list[sa.Row]]:
        """Delete events from blocks no longer on the chain: (newest block kept or None, rows deleted)."""
        events = self.table
        blocks = conn.execute(
            sa.select(events.c.block_number, events.c.block_hash).where(events.c.contract == address)
            .group_by(events.c.block_number, events.c.block_hash).order_by(events.c.block_number.desc())).all()
        keep = None
        for number, block_hash in blocks:
            if self.chain.block_hash_at(number) == block_hash:
                keep = number
                break
        condition = events.c.contract == address
        if keep is not None:
            condition = condition & (events.c.block_number > keep)
        removed = conn.execute(sa.select(events).where(condition)).all()
        conn.execute(sa.delete(events).where(condition))
        return keep, list(removed)

