"""SQL-backed :class:`~ledger.log.tree.NodeStore` for SQLite and PostgreSQL.

Level 0 of the tree is read from ``log_leaf`` (each leaf hash is stored
once, next to its append time); levels >= 1 from ``log_node``.

The caller owns the transaction: the store never commits or rolls back, so
the appender can write a leaf in the same transaction as its record and
both commit together, or neither.

The hot paths send plain SQL, generated from the SQLModel tables and the
dialect (identifier quoting, parameter style) and cached per shape:
building and compiling a Core construct for every proof would cost more
than the query itself. Choices that come from measurements:

- Node reads go through the connection's DBAPI cursor (same connection,
  same transaction), skipping SQLAlchemy's result set-up; see _fetch_all.
- Nodes are looked up with ``(level = ? AND index = ?) OR ...`` rather than
  the row-value ``(level, index) IN (...)``, which SQLite 3.40 answers with
  a full table scan (10 ms per proof at 100k leaves) instead of primary-key
  searches.
- Appends use one executemany per table, except on psycopg (PostgreSQL)
  where COPY is about 5x faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import Connection, Dialect, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ledger.log.errors import AppendConflictError, MissingNodeError
from ledger.log.models import LogLeaf, LogNode
from ledger.log.proof import NodeId

__all__ = ["SqlNodeStore"]

_leaf = LogLeaf.__table__
_node = LogNode.__table__

# Each node id takes two bind parameters; stay far below SQLite's
# 32766-variable limit. Proofs and roots need about 2 log2(size) ids, so
# only unusual callers ever see more than one chunk.
_MAX_IDS_PER_QUERY = 500

_select_size = select(func.max(_leaf.c.index))


class SqlNodeStore:
    """Node store over the ``log_leaf`` and ``log_node`` tables.

    ``bind`` is a SQLAlchemy ``Session`` (the store uses its current
    connection, so it joins the session's transaction) or a ``Connection``.
    Each method runs one statement per batch (reads are split in chunks of
    500 ids, far above what a proof needs); none commits.

    Tables are addressed by name, so the schema comes from the connection
    (e.g. PostgreSQL's ``search_path``), not from ``schema_translate_map``.
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
        sql_for = _select_sql_factory(connection.dialect)
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            chunk = ids[start : start + _MAX_IDS_PER_QUERY]
            leaf_indices = [index for level, index in chunk if not level]
            node_params = [value for node_id in chunk if node_id[0] for value in node_id]
            rows = _fetch_all(
                connection, sql_for(len(leaf_indices), len(node_params) // 2), (*leaf_indices, *node_params)
            )
            found.update(zip(map(_node_id_of_row, rows), map(_hash_of_row, rows)))
        try:
            hashes = [found[node_id] for node_id in ids]
        except KeyError:
            missing = [node_id for node_id in ids if node_id not in found]
            raise MissingNodeError(
                f"{len(missing)} node(s) absent from log_leaf/log_node, first "
                f"(level, index) = {missing[0]}; likely cause: a size beyond the "
                "log, or rows written or deleted without MerkleLog"
            ) from None
        if hashes and not isinstance(hashes[0], bytes):  # e.g. psycopg2's memoryview
            hashes = [bytes(node_hash) for node_hash in hashes]
        return hashes

    def put_nodes(self, first_leaf: int, levels: Sequence[Sequence[bytes]]) -> None:
        if not levels or not levels[0]:
            return
        connection = self._connection()
        dialect = connection.dialect
        appended_at = _bind_value(dialect, datetime.now(UTC))
        leaf_rows = [(index, leaf_hash, appended_at) for index, leaf_hash in enumerate(levels[0], first_leaf)]
        node_rows = [
            (level, index, node_hash)
            for level in range(1, len(levels))
            for index, node_hash in enumerate(levels[level], first_leaf >> level)
        ]
        try:
            if dialect.driver == "psycopg":
                _copy_rows(connection, leaf_rows, node_rows)
            else:
                statements = _insert_sql(dialect)
                connection.exec_driver_sql(statements[0], leaf_rows)
                if node_rows:
                    connection.exec_driver_sql(statements[1], node_rows)
        except (IntegrityError, dialect.loaded_dbapi.IntegrityError) as error:
            raise AppendConflictError(
                f"appending at leaf {first_leaf} collided with rows already "
                "stored; likely cause: another writer appended since the size "
                "was read (roll back, then retry under the sequencer lock)"
            ) from error


_node_id_of_row = itemgetter(0, 1)
_hash_of_row = itemgetter(2)


def _fetch_all(connection: Connection, sql: str, params: tuple) -> list[tuple]:
    """Run a SELECT on the connection's DBAPI cursor, inside its transaction.

    Measured on SQLite: setting up a CursorResult (as exec_driver_sql does)
    costs about 18 µs per call, a fifth of a whole proof, for rows we only
    turn into a dict. Driver errors are still raised as SQLAlchemy's.
    """
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _names(dialect: Dialect) -> dict[str, str]:
    quote = dialect.identifier_preparer
    return {
        "leaf_table": quote.format_table(_leaf),
        "node_table": quote.format_table(_node),
        "index": quote.quote("index"),
        "level": quote.quote("level"),
        "leaf_hash": quote.quote("leaf_hash"),
        "hash": quote.quote("hash"),
        "created_at": quote.quote("created_at"),
    }


def _placeholders(dialect: Dialect, count: int, first: int = 0) -> list[str]:
    style = dialect.paramstyle
    if style == "qmark":
        return ["?"] * count
    if style in ("format", "pyformat"):
        return ["%s"] * count
    if style == "numeric":
        return [f":{position}" for position in range(first + 1, first + count + 1)]
    if style == "numeric_dollar":
        return [f"${position}" for position in range(first + 1, first + count + 1)]
    raise NotImplementedError(f"SqlNodeStore needs a positional parameter style; driver {dialect.driver} uses {style}")


@lru_cache(maxsize=16)
def _select_sql_factory(dialect: Dialect) -> Callable[[int, int], str]:
    """Per dialect: a cached function from (leaf count, inner node count) to SQL."""
    names = _names(dialect)

    @lru_cache(maxsize=4096)
    def select_sql(leaf_count: int, node_count: int) -> str:
        parts = []
        if leaf_count:
            marks = ", ".join(_placeholders(dialect, leaf_count))
            parts.append(
                f"SELECT 0, {names['index']}, {names['leaf_hash']} FROM {names['leaf_table']} "
                f"WHERE {names['index']} IN ({marks})"
            )
        if node_count:
            marks = _placeholders(dialect, 2 * node_count, first=leaf_count)
            matches = " OR ".join(
                f"({names['level']} = {marks[2 * position]} AND {names['index']} = {marks[2 * position + 1]})"
                for position in range(node_count)
            )
            parts.append(
                f"SELECT {names['level']}, {names['index']}, {names['hash']} FROM {names['node_table']} WHERE {matches}"
            )
        if not parts:
            # Nothing asked: a query that returns no row keeps callers uniform.
            return f"SELECT 0, 0, {names['hash']} FROM {names['node_table']} WHERE 1 = 0"
        return " UNION ALL ".join(parts)

    return select_sql


@lru_cache(maxsize=16)
def _insert_sql(dialect: Dialect) -> tuple[str, str]:
    names = _names(dialect)
    marks = ", ".join(_placeholders(dialect, 3))
    insert_leaves = (
        f"INSERT INTO {names['leaf_table']} ({names['index']}, {names['leaf_hash']}, "
        f"{names['created_at']}) VALUES ({marks})"
    )
    insert_nodes = (
        f"INSERT INTO {names['node_table']} ({names['level']}, {names['index']}, {names['hash']}) VALUES ({marks})"
    )
    return insert_leaves, insert_nodes


def _bind_value(dialect: Dialect, moment: datetime):
    """``moment`` as the driver receives a created_at value (SQLite stores
    SQLAlchemy's text format), converted once per batch, not per row."""
    processor = _leaf.c.created_at.type.bind_processor(dialect)
    return processor(moment) if processor else moment


def _copy_rows(connection: Connection, leaf_rows: list[tuple], node_rows: list[tuple]) -> None:
    names = _names(connection.dialect)
    if not connection.in_transaction():
        # COPY bypasses SQLAlchemy; begin as its first execute would have, so
        # the caller's commit or rollback covers these rows.
        connection.begin()
    driver_connection = connection.connection.driver_connection
    with driver_connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {names['leaf_table']} ({names['index']}, {names['leaf_hash']}, {names['created_at']}) FROM STDIN"
        ) as copy:
            for row in leaf_rows:
                copy.write_row(row)
        if node_rows:
            with cursor.copy(
                f"COPY {names['node_table']} ({names['level']}, {names['index']}, {names['hash']}) FROM STDIN"
            ) as copy:
                for row in node_rows:
                    copy.write_row(row)
