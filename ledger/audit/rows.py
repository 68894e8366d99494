"""Read the index as one snapshot; compare a table with its rebuild, row by row.

An audit may run beside a live server: every part of it reads through one
:func:`snapshot`, so rows committed meanwhile are neither half seen nor
taken for insertions. Both sides of a comparison are read in the same order
(a natural key, strings by UTF-8 bytes whatever the database's collation)
and merged, so memory stays flat whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.audit.report import Discrepancy
from ledger.trace.indexing import utc

NAMED_PER_TABLE = 20
"""Discrepancies named one by one in each table before the audit only counts the rest."""

BATCH = 2_000


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read transaction that sees the index as it was when it began.

    PostgreSQL: REPEATABLE READ. SQLite (WAL): any read transaction keeps its snapshot.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _ordered(connection: Connection, table: sa.Table, key: Sequence[sa.Column], rest: Sequence[sa.Column],
             where: sa.ColumnElement[bool] | None) -> Iterator[tuple]:
    """Rows of ``table`` (key columns first) in byte order of ``key``, whatever the database's collation."""
    collate = connection.dialect.name == "postgresql"
    order = [sa.collate(c, "C") if collate and isinstance(c.type, sa.String) else c for c in key]
    query = sa.select(*key, *rest).order_by(*order)
    if where is not None:
        query = query.where(where)
    yield from connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)


def compare_table(
    table: sa.Table,
    source: Connection,
    rebuilt: Connection,
    found: Callable[[Discrepancy], None],
    *,
    key: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    where: Callable[[sa.Table], sa.ColumnElement[bool]] | None = None,
    truth: str = "the log",
) -> int:
    """Merge the stored (``source``) and rebuilt rows of ``table``; report each difference. Returns rows read.

    ``key`` names the columns that identify a row (default: the primary key;
    a surrogate id is no use, as a rebuild numbers rows afresh); ``ignore``
    names columns that differ by nature (a surrogate id); ``where`` limits
    both sides to the rows the rebuild covers; ``truth`` names what the
    rebuild came from, in the messages.
    """
    key_columns = [table.c[name] for name in key] if key is not None else list(table.primary_key.columns)
    rest = [c for c in table.columns if c not in key_columns and c.name not in ignore]
    key_width = len(key_columns)
    names = [c.name for c in (*key_columns, *rest)]
    time_columns = {i for i, c in enumerate((*key_columns, *rest)) if isinstance(c.type, sa.DateTime)}
    condition = where(table) if where is not None else None
    named = 0
    unnamed = 0
    rows = 0

    def report(key: tuple, problem: str) -> None:
        nonlocal named, unnamed
        if named < NAMED_PER_TABLE:
            found(Discrepancy(_subject(table.name, names[:key_width], key), problem))
            named += 1
        else:
            unnamed += 1

    def normal(row: Sequence[Any]) -> tuple:
        return tuple(utc(v) if i in time_columns and v is not None else v for i, v in enumerate(row))

    stored_rows = _ordered(source, table, key_columns, rest, condition)
    rebuilt_rows = _ordered(rebuilt, table, key_columns, rest, condition)
    stored, expected = next(stored_rows, None), next(rebuilt_rows, None)
    while stored is not None or expected is not None:
        stored_key = tuple(stored[:key_width]) if stored is not None else None
        expected_key = tuple(expected[:key_width]) if expected is not None else None
        if stored_key == expected_key and tuple(stored) == tuple(expected):  # the common case, decided without conversions
            stored, expected, rows = next(stored_rows, None), next(rebuilt_rows, None), rows + 1
            continue
        if expected_key is None or (stored_key is not None and _before(stored_key, expected_key)):
            report(stored_key, f"{truth} gives no such row (row inserted, or its key edited)")
            stored, rows = next(stored_rows, None), rows + 1
            continue
        if stored_key is None or _before(expected_key, stored_key):
            report(expected_key, f"missing: {truth} gives this row but the index lacks it (row deleted, or its key edited)")
            expected = next(rebuilt_rows, None)
            continue
        have, want = normal(stored), normal(expected)
        changed = [f"{names[i]} is {have[i]!r}, {truth} gives {want[i]!r}" for i in range(key_width, len(names)) if have[i] != want[i]]
        if changed:
            report(stored_key, "; ".join(changed) + " (row edited)")
        stored, expected, rows = next(stored_rows, None), next(rebuilt_rows, None), rows + 1
    if unnamed:
        found(Discrepancy(table.name, f"{unnamed} more rows differ from what {truth} gives; the first {named} are named above"))
    return rows


def _before(a: tuple, b: tuple) -> bool:
    """Key order as both databases sort it: strings by UTF-8 bytes (SQLite BINARY, PostgreSQL "C")."""
    return tuple(v.encode() if isinstance(v, str) else v for v in a) < tuple(v.encode() if isinstance(v, str) else v for v in b)


def _subject(table: str, key_names: Sequence[str], key: tuple) -> str:
    if len(key) == 1:
        return f"{table} {key[0]}"
    return f"{table} (" + ", ".join(f"{name}={value}" for name, value in zip(key_names, key)) + ")"
