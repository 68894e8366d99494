"""The ``checkpoint`` table: what was (or is about to be) anchored on chain.

A row is written as ``pending`` *before* its transaction is sent and turned
``anchored`` once the receipt is in, so a crash in between is noticed and
reconciled against the chain on restart: never anchored twice, never lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CheckpointStatus(StrEnum):
    PENDING = "pending"
    ANCHORED = "anchored"


class Checkpoint(SQLModel, table=True):
    __tablename__ = "checkpoint"

    tree_size: int = Field(sa_column=Column("tree_size", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False))
    root_hash: bytes = Field(sa_column=Column("root_hash", LargeBinary(32), nullable=False))
    previous_size: int = Field(sa_column=Column("previous_size", BigInteger, nullable=False))
    status: str = Field(default=CheckpointStatus.PENDING, sa_column=Column("status", String(16), nullable=False, index=True))
    chain_id: int = Field(sa_column=Column("chain_id", BigInteger, nullable=False))
    contract_address: str = Field(sa_column=Column("contract_address", String(42), nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column("sequence", BigInteger, nullable=True))
    tx_hash: str | None = Field(default=None, sa_column=Column("tx_hash", String(66), nullable=True))
    block_number: int | None = Field(default=None, sa_column=Column("block_number", BigInteger, nullable=True))
    block_hash: str | None = Field(default=None, sa_column=Column("block_hash", String(66), nullable=True))
    created_at: datetime = Field(default_factory=_utc_now, sa_column=Column("created_at", DateTime(timezone=True), nullable=False))
    anchored_at: datetime | None = Field(default=None, sa_column=Column("anchored_at", DateTime(timezone=True), nullable=True))
