"""Index tables of recalls and pack status: the chain is the authority.

``product_status_event`` holds every event of the ProductStatus contract the
mirror has read (one row per log, unique by contract, block hash and log
index); ``product_status`` is the status per key those events add up to
(recomputed from the events of a key whenever one arrives or a reorg removes
one). Both can be dropped and rebuilt from the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

_Id = BigInteger().with_variant(Integer(), "sqlite")


class ProductStatusEvent(SQLModel, table=True):
    """One event of the ProductStatus contract, as read from the chain."""

    __tablename__ = "product_status_event"
    __table_args__ = (
        UniqueConstraint("contract", "block_hash", "log_index", name="uq_product_status_event_log"),
        Index("ix_product_status_event_key", "key", "block_number", "log_index"),
        Index("ix_product_status_event_block", "contract", "block_number"),
        Index("ix_product_status_event_participant", "participant_id", "kind"),
    )

    id: int | None = Field(default=None, sa_column=Column("id", _Id, primary_key=True, autoincrement=True))
    contract: str = Field(sa_column=Column("contract", String(42), nullable=False))
    block_number: int = Field(sa_column=Column("block_number", BigInteger, nullable=False))
    block_hash: str = Field(sa_column=Column("block_hash", String(66), nullable=False))
    block_time: datetime | None = Field(default=None, sa_column=Column("block_time", DateTime(timezone=True)))
    tx_hash: str = Field(sa_column=Column("tx_hash", String(66), nullable=False))
    log_index: int = Field(sa_column=Column("log_index", Integer, nullable=False))
    kind: str = Field(sa_column=Column("kind", String(24), nullable=False))  # lot_registered, recalled, ...
    key: str = Field(sa_column=Column("key", String(128), nullable=False))
    subject: str = Field(sa_column=Column("subject", String(66), nullable=False))
    participant_id: str = Field(sa_column=Column("participant_id", String(66), nullable=False))
    notice: str | None = Field(default=None, sa_column=Column("notice", String(256)))
    reason_hash: str | None = Field(default=None, sa_column=Column("reason_hash", String(66)))
    pack_status: str | None = Field(default=None, sa_column=Column("pack_status", String(16)))


class ProductStatusRow(SQLModel, table=True):
    """The status of one key now, as its mirrored events add up."""

    __tablename__ = "product_status"

    key: str = Field(sa_column=Column("key", String(128), primary_key=True))
    subject: str = Field(sa_column=Column("subject", String(66), nullable=False))
    owner_participant_id: str | None = Field(default=None, sa_column=Column("owner_participant_id", String(66)))
    recalled: bool = Field(default=False, sa_column=Column("recalled", Boolean, nullable=False))
    recall_notice: str | None = Field(default=None, sa_column=Column("recall_notice", String(256)))
    recall_reason_hash: str | None = Field(default=None, sa_column=Column("recall_reason_hash", String(66)))
    recalled_at: datetime | None = Field(default=None, sa_column=Column("recalled_at", DateTime(timezone=True)))
    recalled_by: str | None = Field(default=None, sa_column=Column("recalled_by", String(66)))
    recall_tx: str | None = Field(default=None, sa_column=Column("recall_tx", String(66)))
    recall_block: int | None = Field(default=None, sa_column=Column("recall_block", BigInteger))
    pack_status: str | None = Field(default=None, sa_column=Column("pack_status", String(16)))
    decommissioned_at: datetime | None = Field(default=None, sa_column=Column("decommissioned_at", DateTime(timezone=True)))
    decommissioned_by: str | None = Field(default=None, sa_column=Column("decommissioned_by", String(66)))
    decommission_tx: str | None = Field(default=None, sa_column=Column("decommission_tx", String(66)))
    decommission_block: int | None = Field(default=None, sa_column=Column("decommission_block", BigInteger))
