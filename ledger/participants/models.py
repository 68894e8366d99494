"""The mirror of the on-chain participant registry, and the indexer's cursor.

``registry_event`` holds every registry event the indexer processed, one row
per log (unique by block hash and log index); ``participant`` and
``participant_key`` are a projection of it, rebuilt from it after a reorg.
The chain stays the authority: these tables only answer fast what the
registry's views would answer, and keep the history the registry does not.

``chain_cursor`` records, per indexer, the last block processed and its hash
(to notice a reorg). Mirror rows and cursor always change in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

_Id = BigInteger().with_variant(Integer(), "sqlite")


class ParticipantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class RegistryEventKind(StrEnum):
    """The registry's seven events (Solidity names)."""

    PARTICIPANT_REGISTERED = "ParticipantRegistered"
    PARTICIPANT_SUSPENDED = "ParticipantSuspended"
    PARTICIPANT_REACTIVATED = "ParticipantReactivated"
    KEY_ADDED = "KeyAdded"
    KEY_REVOKED = "KeyRevoked"
    ROLE_GRANTED = "ParticipantRoleGranted"
    ROLE_REVOKED = "ParticipantRoleRevoked"


class Participant(SQLModel, table=True):
    """A registered organisation, as the registry's ``getParticipant`` reports it."""

    __tablename__ = "participant"

    id: str = Field(sa_column=Column("id", String(66), primary_key=True))  # 0x + bytes32, lower-case hex
    gln: str = Field(sa_column=Column("gln", String(13), nullable=False, unique=True))  # 13 digits, zero-padded
    name: str = Field(sa_column=Column("name", String(256), nullable=False))
    status: str = Field(sa_column=Column("status", String(16), nullable=False))  # ParticipantStatus
    # Bit i = ledger.participants.roles.ROLES[i], exactly the registry's role mask.
    roles: int = Field(default=0, sa_column=Column("roles", BigInteger, nullable=False))
    registered_block: int = Field(sa_column=Column("registered_block", BigInteger, nullable=False))
    updated_block: int = Field(sa_column=Column("updated_block", BigInteger, nullable=False))


class ParticipantKey(SQLModel, table=True):
    """A signing key of a participant; revoked keys stay (a key is never reused)."""

    __tablename__ = "participant_key"

    address: str = Field(sa_column=Column("address", String(42), primary_key=True))  # EIP-55 checksummed
    participant_id: str = Field(sa_column=Column(
        "participant_id", String(66), ForeignKey("participant.id", name="fk_participant_key_participant"),
        nullable=False, index=True))
    added_block: int = Field(sa_column=Column("added_block", BigInteger, nullable=False))
    revoked_block: int | None = Field(default=None, sa_column=Column("revoked_block", BigInteger, nullable=True))


class RegistryEvent(SQLModel, table=True):
    """One processed registry event: the history the mirror is projected from."""

    __tablename__ = "registry_event"
    __table_args__ = (
        UniqueConstraint("block_hash", "log_index", name="uq_registry_event_log"),
        Index("ix_registry_event_order", "block_number", "log_index"),
    )

    id: int | None = Field(default=None, sa_column=Column("id", _Id, primary_key=True, autoincrement=True))
    block_number: int = Field(sa_column=Column("block_number", BigInteger, nullable=False))
    block_hash: str = Field(sa_column=Column("block_hash", String(66), nullable=False))
    block_time: datetime | None = Field(default=None, sa_column=Column("block_time", DateTime(timezone=True), nullable=True))
    tx_hash: str = Field(sa_column=Column("tx_hash", String(66), nullable=False))
    log_index: int = Field(sa_column=Column("log_index", Integer, nullable=False))
    kind: str = Field(sa_column=Column("kind", String(32), nullable=False, index=True))  # RegistryEventKind
    participant_id: str = Field(sa_column=Column("participant_id", String(66), nullable=False, index=True))
    # The participant's GLN on every row (not only ParticipantRegistered), for history by GLN.
    gln: str | None = Field(default=None, sa_column=Column("gln", String(13), nullable=True, index=True))
    name: str | None = Field(default=None, sa_column=Column("name", String(256), nullable=True))  # ParticipantRegistered
    key_address: str | None = Field(default=None, sa_column=Column("key_address", String(42), nullable=True, index=True))
    role: str | None = Field(default=None, sa_column=Column("role", String(66), nullable=True))  # role name (hex id if unknown)


class ChainCursor(SQLModel, table=True):
    """Where a chain-following indexer stands: the last block it processed."""

    __tablename__ = "chain_cursor"

    name: str = Field(sa_column=Column("name", String(100), primary_key=True))
    block_number: int = Field(sa_column=Column("block_number", BigInteger, nullable=False))
    block_hash: str = Field(sa_column=Column("block_hash", String(66), nullable=False))
    updated_at: datetime = Field(sa_column=Column("updated_at", DateTime(timezone=True), nullable=False))
