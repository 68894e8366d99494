"""SQL-backed :class:`~ledger.log.tree.NodeStore` (SQLAlchemy Core; SQLite and PostgreSQL).

Level 0 of the tree is read from ``log_leaf`` (the leaf hashes are stored
there once, next to their append time); levels >= 1 from ``log_node``.

The caller owns the transaction: the store never commits or rolls back, so
the appender can write a leaf in the same transaction as its record and
both commit together, or neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import Connection, SmallInteger, bindparam, func, insert, literal_column, select, tuple_, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.log.errors import AppendConflictError, MissingNodeError
from ledger.log.models import LogLeaf, LogNode
from ledger.log.proof import NodeId

__all__ = ["SqlNodeStore"]

_leaf = LogLeaf.__table__
_node = LogNode.__table__

# Tuple IN takes two bind parameters per id; stay far below SQLite's
# 32766-variable limit. Proofs and roots need about 2 log2(size) ids, so
# only unusual callers ever see more than one chunk.
_MAX_IDS_PER_QUERY = 500

_select_size = select(func.max(_leaf.c.index))
_select_leaves = select(literal_column("0", SmallInteger).label("level"), _leaf.c.index, _leaf.c.leaf_hash).where(
    _leaf.c.index.in_(bindparam("leaf_indices", expanding=True))
)
_select_inner = select(_node.c.level, _node.c.index, _node.c.hash).where(
    tuple_(_node.c.level, _node.c.index).in_(bindparam("node_ids", expanding=True))
)
_select_both = union_all(_select_leaves, _select_inner)
_insert_leaves = insert(_leaf)
_insert_nodes = insert(_node)


class SqlNodeStore:
    """Node store over the ``log_leaf`` and ``log_node`` tables.

    ``bind`` is a SQLAlchemy ``Session`` (the store uses its current
    connection, so it joins the session's transaction) or a ``Connection``.
    Every method runs at most one statement per batch (plus chunking for
    requests of more than 500 ids); none commits.
    """

    def __init__(self, bind: Session | Connection) -> None:
        self._bind = bind

    def _connection(self) -> Connection:
        if isinstance(self._bind, Session):
            return self._bind.connection()
        return self._bind

    def size(self) -> int:
        # Indices are contiguous from 0 (put_nodes only appends at size()), so
        # MAX reads one end of the primary key instead of counting rows.
        last = self._connection().execute(_select_size).scalar()
        return 0 if last is None else last + 1

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        connection = self._connection()
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            chunk = ids[start : start + _MAX_IDS_PER_QUERY]
            leaf_indices = [index for level, index in chunk if level == 0]
            node_ids = [(level, index) for level, index in chunk if level != 0]
            if not node_ids:
                statement, params = _select_leaves, {"leaf_indices": leaf_indices}
            elif not leaf_indices:
                statement, params = _select_inner, {"node_ids": node_ids}
            else:
                statement, params = _select_both, {"leaf_indices": leaf_indices, "node_ids": node_ids}
            for level, index, node_hash in connection.execute(statement, params):
                found[(level, index)] = node_hash
        try:
            return [found[node_id] for node_id in ids]
        except KeyError:
            missing = [node_id for node_id in ids if node_id not in found]
            raise MissingNodeError(
                f"{len(missing)} node(s) absent from log_leaf/log_node, first "
                f"(level, index) = {missing[0]}; likely cause: a size beyond the "
                "log, or rows written or deleted without MerkleLog"
            ) from None

    def put_nodes(self, first_leaf: int, levels: Sequence[Sequence[bytes]]) -> None:
        if not levels or not levels[0]:
            return
        appended_at = datetime.now(timezone.utc)
        leaf_rows = [
            {"index": index, "leaf_hash": leaf_hash, "created_at": appended_at}
            for index, leaf_hash in enumerate(levels[0], first_leaf)
        ]
        node_rows = [
            {"level": level, "index": index, "hash": node_hash}
            for level in range(1, len(levels))
            for index, node_hash in enumerate(levels[level], first_leaf >> level)
        ]
        connection = self._connection()
        try:
            connection.execute(_insert_leaves, leaf_rows)
            if node_rows:
                connection.execute(_insert_nodes, node_rows)
        except IntegrityError as error:
            raise AppendConflictError(
                f"appending at leaf {first_leaf} collided with rows already "
                "stored; likely cause: another writer appended since the size "
                "was read (roll back, then retry under the sequencer lock)"
            ) from error
