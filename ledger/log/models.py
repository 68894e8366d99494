"""SQL tables of the Merkle log (SQLModel; Alembic migrations derive from these).

Leaf hashes are stored once, in ``log_leaf``; ``log_node`` holds only the
perfect subtrees of level >= 1. Both tables are append-only: a row, once
written, is never updated, because a perfect subtree's hash never changes.
Column types are portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Integer, LargeBinary, SmallInteger
from sqlmodel import Field, SQLModel

__all__ = ["LogLeaf", "LogNode"]

# SQLite only makes INTEGER (not BIGINT) primary keys an alias of the rowid,
# which saves a separate index; PostgreSQL needs 64 bits for a long-lived log.
_LeafIndex = BigInteger().with_variant(Integer(), "sqlite")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LogLeaf(SQLModel, table=True):
    """Leaf ``index`` (0-based) of the log, and when it was appended.

    Written in the same transaction as the record it commits to, so a leaf
    never exists without its record nor a record without its leaf.
    """

    __tablename__ = "log_leaf"
    __table_args__ = (CheckConstraint("length(leaf_hash) = 32", name="ck_log_leaf_hash_size"),)

    index: int = Field(sa_column=Column("index", _LeafIndex, primary_key=True, autoincrement=False))
    leaf_hash: bytes = Field(sa_column=Column("leaf_hash", LargeBinary(32), nullable=False))
    created_at: datetime = Field(
        default_factory=_utc_now,
        sa_column=Column("created_at", DateTime(timezone=True), nullable=False),
    )


class LogNode(SQLModel, table=True):
    """Hash of the perfect subtree over leaves [index << level, (index + 1) << level).

    Only levels >= 1: level 0 is ``log_leaf``.
    """

    __tablename__ = "log_node"
    __table_args__ = (
        CheckConstraint("level >= 1", name="ck_log_node_level"),
        CheckConstraint("length(hash) = 32", name="ck_log_node_hash_size"),
        # Ignored outside SQLite; there the table becomes its own (level,
        # index) B-tree instead of a rowid table plus a primary-key index.
        {"sqlite_with_rowid": False},
    )

    level: int = Field(sa_column=Column("level", SmallInteger, primary_key=True, autoincrement=False))
    index: int = Field(sa_column=Column("index", BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column("hash", LargeBinary(32), nullable=False))
