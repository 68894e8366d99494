"""Tables of captured events. The authoritative copy of each event is its
log record (``record.body``); these rows index it for queries and traces."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

_Index = BigInteger().with_variant(Integer(), "sqlite")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CaptureState:
    STORED = "stored"
    REFUSED = "refused"


class CaptureJob(SQLModel, table=True):
    """One signed submission: stored (with its capture record in the log) or
    refused by the role policy (kept, so refusals count in credit profiles)."""

    __tablename__ = "capture"
    __table_args__ = (UniqueConstraint("signer", "nonce", name="uq_capture_signer_nonce"),)

    id: str = Field(sa_column=Column("id", String(32), primary_key=True))
    signer: str = Field(sa_column=Column("signer", String(42), nullable=False, index=True))
    participant_id: str | None = Field(default=None, sa_column=Column("participant_id", String(66), index=True))
    nonce: str = Field(sa_column=Column("nonce", String(78), nullable=False))
    digest: str = Field(sa_column=Column("digest", String(66), nullable=False))
    state: str = Field(sa_column=Column("state", String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column("reason", Text))
    record_index: int | None = Field(default=None, sa_column=Column("record_index", _Index))
    event_count: int = Field(sa_column=Column("event_count", Integer, nullable=False))
    results: str = Field(sa_column=Column("results", Text, nullable=False))  # JSON list, one entry per event
    created_at: datetime = Field(default_factory=_utc_now, sa_column=Column("created_at", DateTime(timezone=True), nullable=False))


class EpcisEvent(SQLModel, table=True):
    __tablename__ = "epcis_event"
    __table_args__ = (Index("ix_epcis_event_time", "event_time"),)

    hash_id: str = Field(sa_column=Column("hash_id", String(120), primary_key=True))
    record_index: int = Field(sa_column=Column("record_index", _Index, ForeignKey("record.index"), nullable=False, unique=True))
    capture_id: str = Field(sa_column=Column("capture_id", String(32), nullable=False, index=True))
    signer: str = Field(sa_column=Column("signer", String(42), nullable=False))
    participant_id: str = Field(sa_column=Column("participant_id", String(66), nullable=False, index=True))
    event_type: str = Field(sa_column=Column("event_type", String(32), nullable=False))
    event_time: datetime = Field(sa_column=Column("event_time", DateTime(timezone=True), nullable=False))
    action: str | None = Field(default=None, sa_column=Column("action", String(8)))
    biz_step: str | None = Field(default=None, sa_column=Column("biz_step", String(200), index=True))
    disposition: str | None = Field(default=None, sa_column=Column("disposition", String(200)))
    read_point: str | None = Field(default=None, sa_column=Column("read_point", String(200)))
    biz_location: str | None = Field(default=None, sa_column=Column("biz_location", String(200), index=True))


class EpcisEventEpc(SQLModel, table=True):
    """Which identifiers an event names, in canonical Digital Link form, and how."""

    __tablename__ = "epcis_event_epc"
    __table_args__ = (Index("ix_epcis_event_epc_epc", "epc", "record_index"),)

    record_index: int = Field(sa_column=Column("record_index", _Index, ForeignKey("epcis_event.record_index"), primary_key=True))
    epc: str = Field(sa_column=Column("epc", String(300), primary_key=True))
    role: str = Field(sa_column=Column("role", String(12), primary_key=True))  # epc, parent, child, input, output, quantity
