"""SQL plumbing shared by the fact gatherers: IN lists in chunks, time buckets, time stamps.

Gatherers write plain SQL text (table names quoted where they are keywords:
``"record"``, ``"index"``) with ``:name`` parameters, which runs unchanged on
SQLite and PostgreSQL; a list parameter (``IN :ids``) gets one mark per value,
at most :data:`IN_CHUNK` values per statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from ledger.trace.queries import iso
from ledger.trace.sql import IN_CHUNK, run_sql

__all__ = ["IN_CHUNK", "chunks", "iso", "period_of", "select_rows"]

DAY, MONTH = "day", "month"


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _driver_sql(sql: str, paramstyle: str, sizes: tuple[tuple[str, int], ...]) -> tuple[str, tuple[str, ...]]:
    """``sql`` with its ``:name`` parameters as the driver's positional marks (a list parameter as one
    mark per value, ``sizes`` giving the lengths), and the parameter names in mark order."""
    lengths = dict(sizes)
    mark = "?" if paramstyle == "qmark" else "%s"
    order: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        order.append(name)
        if name in lengths:
            return "(" + ", ".join([mark] * lengths[name]) + ")"
        return mark

    text = sql if mark == "?" else sql.replace("%", "%%")  # a literal % (LIKE) is %% where %s marks a parameter
    return _PARAMETER.sub(replace, text), tuple(order)


def select_rows(conn: Connection, sql: str, *, lists: Sequence[str] = ("ids",), **params: Any) -> list[tuple]:
    """Rows of ``sql`` (plain tuples, values as the driver returns them: time stamps are text on SQLite);
    every parameter named in ``lists`` is an IN list (never empty), written ``IN :name``.

    Runs on the connection's DBAPI cursor, inside its transaction: through
    SQLAlchemy each statement cost about half a millisecond more than
    SQLite took to answer it, and a profile runs some twenty.
    """
    sizes = tuple(sorted((name, len(params[name])) for name in lists))
    text, order = _driver_sql(sql, conn.dialect.paramstyle, sizes)
    values: list[Any] = []
    for name in order:
        value = params[name]
        if name in lists:
            values.extend(value)
        else:
            values.append(value)
    return run_sql(conn, text, values)


def period_of(conn: Connection, column: str, granularity: str) -> str:
    """SQL for the UTC month (``YYYY-MM``) or day (``YYYY-MM-DD``) of a time stamp column."""
    if conn.dialect.name == "postgresql":
        pattern = "YYYY-MM" if granularity == MONTH else "YYYY-MM-DD"
        return f"to_char({column} AT TIME ZONE 'UTC', '{pattern}')"
    # SQLite keeps UTC time stamps as text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"substr({column}, 1, {7 if granularity == MONTH else 10})"


def period_text(moment: Any, granularity: str) -> str | None:
    """The period of a time stamp read back from the index (or ISO text)."""
    text = iso(moment)
    if text is None:
        return None
    return text[:7] if granularity == MONTH else text[:10]
