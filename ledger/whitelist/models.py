"""Index tables of the trader whitelist: a mirror of the contract's events, the
names customs lists give traders, and the journal of bulk imports.

The chain is the authority. ``whitelist_event`` holds every event of the
contract the mirror has read (one row per log, unique by contract, block hash
and log index); with its cursor (``contract_cursor``) it can be dropped and rebuilt from the chain at any time.
``whitelist_trader`` keeps the display names from import files (names are not
on chain). ``whitelist_import``/``whitelist_import_batch`` record each bulk
import's transactions as they are sent, so a re-run after a crash first
settles the transactions already in flight instead of sending them again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

_Id = BigInteger().with_variant(Integer(), "sqlite")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WhitelistEventRow(SQLModel, table=True):
    """One event of the TraderWhitelist contract, as read from the chain."""

    __tablename__ = "whitelist_event"
    __table_args__ = (
        UniqueConstraint("contract", "block_hash", "log_index", name="uq_whitelist_event_log"),
        Index("ix_whitelist_event_trader", "contract", "uscc", "block_number", "log_index"),
        Index("ix_whitelist_event_block", "contract", "block_number"),
    )

    id: int | None = Field(default=None, sa_column=Column("id", _Id, primary_key=True, autoincrement=True))
    contract: str = Field(sa_column=Column("contract", String(42), nullable=False))
    block_number: int = Field(sa_column=Column("block_number", BigInteger, nullable=False))
    block_hash: str = Field(sa_column=Column("block_hash", String(66), nullable=False))
    block_time: datetime | None = Field(default=None, sa_column=Column("block_time", DateTime(timezone=True), nullable=True))
    tx_hash: str = Field(sa_column=Column("tx_hash", String(66), nullable=False))
    log_index: int = Field(sa_column=Column("log_index", Integer, nullable=False))
    kind: str = Field(sa_column=Column("kind", String(24), nullable=False))  # Solidity event name
    uscc: str = Field(sa_column=Column("uscc", String(18), nullable=False))
    version: int = Field(sa_column=Column("version", BigInteger, nullable=False))
    officer: str = Field(sa_column=Column("officer", String(42), nullable=False))
    level: int | None = Field(default=None, sa_column=Column("level", SmallInteger, nullable=True))
    previous_level: int | None = Field(default=None, sa_column=Column("previous_level", SmallInteger, nullable=True))
    status: int | None = Field(default=None, sa_column=Column("status", SmallInteger, nullable=True))
    scopes: str | None = Field(default=None, sa_column=Column("scopes", String(78), nullable=True))  # uint256, decimal
    valid_from: str | None = Field(default=None, sa_column=Column("valid_from", String(20), nullable=True))  # uint64, decimal
    valid_until: str | None = Field(default=None, sa_column=Column("valid_until", String(20), nullable=True))
    dossier_hash: str | None = Field(default=None, sa_column=Column("dossier_hash", String(66), nullable=True))
    reason: str | None = Field(default=None, sa_column=Column("reason", Text, nullable=True))


class WhitelistTrader(SQLModel, table=True):
    """A trader's display name, from an import file or `whitelist set --name` (off chain)."""

    __tablename__ = "whitelist_trader"

    uscc: str = Field(sa_column=Column("uscc", String(18), primary_key=True))
    name: str = Field(sa_column=Column("name", String(512), nullable=False))
    updated_at: datetime = Field(default_factory=_utc_now, sa_column=Column("updated_at", DateTime(timezone=True), nullable=False))


class ImportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BatchStatus(StrEnum):
    SENT = "sent"
    MINED = "mined"
    FAILED = "failed"


class WhitelistImport(SQLModel, table=True):
    """One bulk import of a customs list file; a re-run of the same file resumes it."""

    __tablename__ = "whitelist_import"
    __table_args__ = (Index("ix_whitelist_import_file", "contract", "file_sha256"),)

    id: int | None = Field(default=None, sa_column=Column("id", _Id, primary_key=True, autoincrement=True))
    contract: str = Field(sa_column=Column("contract", String(42), nullable=False))
    file_sha256: str = Field(sa_column=Column("file_sha256", String(64), nullable=False))
    file_name: str = Field(sa_column=Column("file_name", String(1024), nullable=False))
    rows: int = Field(sa_column=Column("rows", Integer, nullable=False))
    status: str = Field(default=ImportStatus.RUNNING, sa_column=Column("status", String(16), nullable=False))
    runs: int = Field(default=1, sa_column=Column("runs", Integer, nullable=False))
    written: int = Field(default=0, sa_column=Column("written", Integer, nullable=False))
    transactions: int = Field(default=0, sa_column=Column("transactions", Integer, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column("last_error", Text, nullable=True))
    started_at: datetime = Field(default_factory=_utc_now, sa_column=Column("started_at", DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column("finished_at", DateTime(timezone=True), nullable=True))


class WhitelistImportBatch(SQLModel, table=True):
    """One ``setEntries`` transaction of an import, recorded as soon as it is sent."""

    __tablename__ = "whitelist_import_batch"
    __table_args__ = (UniqueConstraint("import_id", "batch_no", name="uq_whitelist_import_batch"),)

    id: int | None = Field(default=None, sa_column=Column("id", _Id, primary_key=True, autoincrement=True))
    import_id: int = Field(sa_column=Column(
        "import_id", _Id, ForeignKey("whitelist_import.id", name="fk_whitelist_import_batch_import"), nullable=False, index=True))
    batch_no: int = Field(sa_column=Column("batch_no", Integer, nullable=False))
    entries: int = Field(sa_column=Column("entries", Integer, nullable=False))
    first_line: int = Field(sa_column=Column("first_line", Integer, nullable=False))
    last_line: int = Field(sa_column=Column("last_line", Integer, nullable=False))
    tx_hash: str = Field(sa_column=Column("tx_hash", String(66), nullable=False))
    status: str = Field(default=BatchStatus.SENT, sa_column=Column("status", String(16), nullable=False))
    gas_limit: int = Field(sa_column=Column("gas_limit", BigInteger, nullable=False))
    gas_used: int | None = Field(default=None, sa_column=Column("gas_used", BigInteger, nullable=True))
    block_number: int | None = Field(default=None, sa_column=Column("block_number", BigInteger, nullable=True))
    sent_at: datetime = Field(default_factory=_utc_now, sa_column=Column("sent_at", DateTime(timezone=True), nullable=False))
    settled_at: datetime | None = Field(default=None, sa_column=Column("settled_at", DateTime(timezone=True), nullable=True))
