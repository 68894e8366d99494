"""Append records to the log: the record rows, their leaves and the new tree
nodes are written in one transaction, so they commit together or not at all.

Appends are sequenced: one writer at a time decides the next leaf index.
Inside a process a lock orders the threads; across processes PostgreSQL's
transaction-scoped advisory lock does (SQLite serialises writers itself and
any conflict is retried).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.index.bulk import insert_rows
from ledger.index.db import write_session
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MerkleLog
from ledger.records.encoding import canonical_json, record_leaf_hash
from ledger.records.models import Record

LOG_SEQUENCER_LOCK = 7377002  # pg advisory lock id: "one log writer at a time"
_DEDUP_CHUNK = 500

_records = Record.__table__
_process_lock = threading.Lock()


@dataclass(frozen=True)
class NewRecord:
    kind: str
    body: Any  # JSON-able; stored as canonical JSON
    dedup_key: str | None = None


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes
    created: bool  # False: an earlier record with the same dedup_key was returned


class LogWriter:
    """Appends within one open transaction (see :func:`log_writer`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.log = MerkleLog(SqlNodeStore(session))

    def append(self, records: Sequence[NewRecord]) -> list[Appended]:
        """Append ``records`` in order; a record whose ``dedup_key`` is already
        in the log (or earlier in the batch) is not appended again, and the
        earlier record's index is returned instead."""
        existing = self._existing([r.dedup_key for r in records if r.dedup_key])
        results: list[Appended | None] = []
        rows: list[dict[str, Any]] = []
        leaves: list[bytes] = []
        first = self.log.size()
        now = datetime.now(UTC)
        for record in records:
            if record.dedup_key and record.dedup_key in existing:
                results.append(existing[record.dedup_key])
                continue
            body = record.body if isinstance(record.body, str) else canonical_json(record.body)
            leaf = record_leaf_hash(record.kind, body)
            index = first + len(rows)
            rows.append({"index": index, "kind": record.kind, "body": body, "dedup_key": record.dedup_key, "created_at": now})
            leaves.append(leaf)
            appended = Appended(index, leaf, created=True)
            if record.dedup_key:
                existing[record.dedup_key] = Appended(index, leaf, created=False)
            results.append(appended)
        if rows:
            insert_rows(self.session.connection(), _records, rows)
            self.log.append_many(leaves)
        return results  # type: ignore[return-value]

    def _existing(self, keys: list[str]) -> dict[str, Appended]:
        found: dict[str, Appended] = {}
        for start in range(0, len(keys), _DEDUP_CHUNK):
            chunk = keys[start : start + _DEDUP_CHUNK]
            rows = self.session.connection().execute(
                sa.select(_records.c.index, _records.c.kind, _records.c.body, _records.c.dedup_key).where(
                    _records.c.dedup_key.in_(chunk)
                )
            )
            for index, kind, body, key in rows:
                found[key] = Appended(index, record_leaf_hash(kind, body), created=False)
        return found


@contextmanager
def log_writer(engine: Engine) -> Iterator[LogWriter]:
    """A transaction that holds the log's sequencing lock; commits on success."""
    with _process_lock, write_session(engine, advisory_lock=LOG_SEQUENCER_LOCK) as session:
        yield LogWriter(session)


def append_records(engine: Engine, records: Sequence[NewRecord]) -> list[Appended]:
    """Append and commit in one call, for callers with nothing else to write."""
    with log_writer(engine) as writer:
        return writer.append(records)
