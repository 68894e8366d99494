"""The ``record`` table: every accepted record, in log order.

``index`` is the record's leaf index in the Merkle log; the leaf hash is
recomputed from ``kind`` and ``body`` (:mod:`ledger.records.encoding`), which
is what lets an auditor catch an edited row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Integer, String, Text
from sqlmodel import Field, SQLModel

_RecordIndex = BigInteger().with_variant(Integer(), "sqlite")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RecordBase(SQLModel):
    kind: str = Field(sa_column=Column("kind", String(64), nullable=False, index=True))
    body: str = Field(sa_column=Column("body", Text, nullable=False))


class Record(RecordBase, table=True):
    __tablename__ = "record"

    index: int = Field(sa_column=Column("index", _RecordIndex, primary_key=True, autoincrement=False))
    # What makes a record "the same" for idempotency (an event's hash ID...).
    dedup_key: str | None = Field(default=None, sa_column=Column("dedup_key", String(200), unique=True, nullable=True))
    created_at: datetime = Field(default_factory=_utc_now, sa_column=Column("created_at", DateTime(timezone=True), nullable=False))
