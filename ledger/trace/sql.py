"""Plain SQL for the hot paths of trace queries and provenance indexing, on the connection's DBAPI cursor.

A trace runs about ten small queries; through SQLAlchemy Core each cost
~150 µs of statement building, cache-key and parameter processing, against
~15 µs in SQLite itself (measured on a 100k-event index). Here the SQL text
is generated once per dialect and IN-list length, from the SQLModel tables
(identifier quoting, parameter style), and run on the DBAPI cursor of the
caller's connection, inside its transaction, as ``ledger.log.sqlstore`` does
for proofs.

Time stamps come back as the driver gives them (text on SQLite, datetime on
PostgreSQL); :func:`ledger.trace.indexing.utc` reads both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ledger.anchor.models import Checkpoint
from ledger.capture.models import EpcisEvent, EpcisEventEpc
from ledger.chain.mirror import ContractCursor
from ledger.participants.models import Participant
from ledger.records.models import Record
from ledger.status.models import ProductStatusRow
from ledger.trace.models import TraceEdge, TraceState, TraceTransformationPart

IN_CHUNK = 500
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)

STATE_COLUMNS = (
    "epc", "kind", "gtin", "disposition", "location", "biz_step", "participant_id", "via",
    "last_index", "last_time", "first_index",
)
EDGE_COLUMNS = ("source", "kind", "target", "start_index", "start_time", "end_index", "end_time")
EVENT_COLUMNS = (
    "record_index", "hash_id", "event_type", "action", "biz_step", "disposition", "read_point", "biz_location",
    "participant_id", "event_time",
)
STATUS_COLUMNS = (
    "key", "recalled", "recall_notice", "recall_reason_hash", "recalled_at", "recalled_by", "recall_tx", "recall_block",
    "pack_status", "decommissioned_at", "decommissioned_by", "decommission_tx", "decommission_block",
)
CHECKPOINT_COLUMNS = (
    "tree_size", "root_hash", "status", "chain_id", "contract_address", "sequence", "tx_hash", "block_number",
    "block_hash", "anchored_at",
)

# Templates: {t:name} is a quoted table, {c:name} a quoted column, {in} the IN-list marks, {p} one mark.
_TEMPLATES = {
    "edges_to": "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:target} IN ({in}) LIMIT {p}",
    "edges_out_and_up": (
        "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:source} IN ({in}) AND {c:kind} IN ('transformation', 'lot') "
        "UNION ALL "
        "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:target} IN ({in2}) AND {c:kind} = 'aggregation' LIMIT {p}"
    ),
    "containments_from": "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:source} IN ({in}) AND {c:kind} = 'aggregation'",
    "open_containments_to": (
        "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:target} IN ({in}) AND {c:kind} = 'aggregation' "
        "AND {c:end_index} IS NULL"
    ),
    "lot_edges_to": "SELECT {c:source}, {c:target} FROM {t:trace_edge} WHERE {c:target} IN ({in}) AND {c:kind} = 'lot'",
    "transformation_parts": (
        "SELECT {c:transformation}, {c:role}, {c:epc} FROM {t:trace_transformation_part} WHERE {c:transformation} IN ({in})"
    ),
    "open_containments_from": (
        "SELECT {edge_cols} FROM {t:trace_edge} WHERE {c:source} IN ({in}) AND {c:kind} = 'aggregation' "
        "AND {c:end_index} IS NULL"
    ),
    # Events naming each key between two times (inclusive), one OR term per key: SQLite answers it
    # with one index search per term ("MULTI-INDEX OR"), PostgreSQL with a bitmap OR.
    "events_in_windows": (
        "SELECT x.{c:epc}, {event_cols} FROM {t:epcis_event_epc} x "
        "JOIN {t:epcis_event} e ON e.{c:record_index} = x.{c:record_index} WHERE {window_terms}"
    ),
    "events_in_windows_with_bodies": (
        "SELECT x.{c:epc}, {event_cols}, r.{c:kind}, r.{c:body} FROM {t:epcis_event_epc} x "
        "JOIN {t:epcis_event} e ON e.{c:record_index} = x.{c:record_index} "
        "JOIN {t:record} r ON r.{c:index} = e.{c:record_index} WHERE {window_terms}"
    ),
    "event_time": "SELECT {c:event_time} FROM {t:epcis_event} WHERE {c:record_index} = {p}",
    "states": "SELECT {state_cols} FROM {t:trace_state} WHERE {c:epc} IN ({in})",
    "participants": "SELECT {c:id}, {c:gln}, {c:name} FROM {t:participant} WHERE {c:id} IN ({in}) OR {c:gln} IN ({in2})",
    "all_participants": "SELECT {c:id}, {c:gln}, {c:name} FROM {t:participant} LIMIT {p}",
    "lot_items": (
        "SELECT {c:target} FROM {t:trace_edge} WHERE {c:source} = {p} AND {c:kind} = 'lot' ORDER BY {c:target} LIMIT {p}"
    ),
    "latest_checkpoint": (
        "SELECT {checkpoint_cols} FROM {t:checkpoint} WHERE {c:status} = 'anchored' ORDER BY {c:tree_size} DESC LIMIT 1"
    ),
    "product_statuses": "SELECT {status_cols} FROM {t:product_status} WHERE {c:key} IN ({in})",
    "contract_cursor": "SELECT {c:block_number} FROM {t:contract_cursor} WHERE {c:contract} = {p}",
}
# Writes of provenance indexing, positional in these column orders (see ledger.trace.indexing).
PART_COLUMNS = ("transformation", "role", "epc", "record_index", "event_time")
_WRITES = {
    "insert_state": "INSERT INTO {t:trace_state} ({state_cols}) VALUES ({marks:11})",
    "update_state": (
        "UPDATE {t:trace_state} SET {c:disposition} = {p}, {c:location} = {p}, {c:biz_step} = {p}, "
        "{c:participant_id} = {p}, {c:via} = {p}, {c:last_index} = {p}, {c:last_time} = {p} WHERE {c:epc} = {p}"
    ),
    "insert_edge": "INSERT INTO {t:trace_edge} ({edge_cols}) VALUES ({marks:7})",
    "close_edge": (
        "UPDATE {t:trace_edge} SET {c:end_index} = {p}, {c:end_time} = {p} "
        "WHERE {c:source} = {p} AND {c:kind} = {p} AND {c:target} = {p} AND {c:start_index} = {p}"
    ),
    "insert_part": "INSERT INTO {t:trace_transformation_part} ({part_cols}) VALUES ({marks:5})",
}
_TEMPLATES.update(_WRITES)

_TABLES = {
    "trace_edge": TraceEdge.__table__,
    "trace_state": TraceState.__table__,
    "trace_transformation_part": TraceTransformationPart.__table__,
    "epcis_event_epc": EpcisEventEpc.__table__,
    "epcis_event": EpcisEvent.__table__,
    "record": Record.__table__,
    "participant": Participant.__table__,
    "checkpoint": Checkpoint.__table__,
    "product_status": ProductStatusRow.__table__,
    "contract_cursor": ContractCursor.__table__,
}


class _Dialect:
    def __init__(self, dialect: Dialect) -> None:
        if dialect.paramstyle == "qmark":
            self.mark = "?"
        elif dialect.paramstyle in ("format", "pyformat"):
            self.mark = "%s"
        else:
            raise NotImplementedError(f"trace queries need a positional parameter style; {dialect.driver} uses {dialect.paramstyle}")
        preparer = dialect.identifier_preparer
        self.tables = {name: preparer.format_table(table) for name, table in _TABLES.items()}
        self.quote = preparer.quote
        self.cache: dict[tuple[str, int, int], str] = {}

    def columns(self, names: Sequence[str], prefix: str = "") -> str:
        return ", ".join(prefix + self.quote(name) for name in names)

    def sql(self, name: str, count: int = 0, count2: int = 0) -> str:
        key = (name, count, count2)
        text = self.cache.get(key)
        if text is None:
            text = _TEMPLATES[name]
            replacements = {
                "{edge_cols}": self.columns(EDGE_COLUMNS),
                "{event_cols}": self.columns(EVENT_COLUMNS, "e."),
                "{state_cols}": self.columns(STATE_COLUMNS),
                "{checkpoint_cols}": self.columns(CHECKPOINT_COLUMNS),
                "{status_cols}": self.columns(STATUS_COLUMNS),
                "{in}": ", ".join([self.mark] * max(count, 1)),
                "{in2}": ", ".join([self.mark] * max(count2, 1)),
                "{window_terms}": " OR ".join(
                    [f"(x.{{c:epc}} = {self.mark} AND e.{{c:event_time}} BETWEEN {self.mark} AND {self.mark})"]
                    * max(count, 1)
                ),
                "{p}": self.mark,
                "{part_cols}": self.columns(PART_COLUMNS),
                "{marks:11}": ", ".join([self.mark] * 11),
                "{marks:7}": ", ".join([self.mark] * 7),
                "{marks:5}": ", ".join([self.mark] * 5),
            }
            for table, quoted in self.tables.items():
                replacements["{t:" + table + "}"] = quoted
            for placeholder, value in replacements.items():
                text = text.replace(placeholder, value)
            while "{c:" in text:
                start = text.index("{c:")
                end = text.index("}", start)
                text = text[:start] + self.quote(text[start + 3 : end]) + text[end + 1 :]
            self.cache[key] = text
        return text


@lru_cache(maxsize=8)
def _for(dialect: Dialect) -> _Dialect:
    return _Dialect(dialect)


@lru_cache(maxsize=8)
def time_processor(dialect: Dialect) -> Any:
    """How SQLAlchemy hands a UTC ``DateTime(timezone=True)`` value to this driver (None: as is).

    On SQLite a fixed-width text, ``2026-03-01 08:40:00.000000``, which is
    what every time stamp of the index is stored as and compared with. The
    same text is made here ~5x faster (indexing writes several per event),
    after checking that it is the same.
    """
    column_type = DateTime(timezone=True)
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return None
    sample = datetime(2026, 3, 1, 8, 40, 5, 120, tzinfo=UTC)
    if processor(sample) == _sqlite_text(sample) and processor(EARLIEST) == _sqlite_text(EARLIEST):
        return _sqlite_text
    return processor


def _sqlite_text(moment: datetime) -> str:
    return moment.isoformat(" ", "microseconds")[:26]


def db_time(connection: Connection, moment: datetime) -> Any:
    """``moment`` as the driver compares it with stored time stamps (SQLite: SQLAlchemy's text form)."""
    to_db = time_processor(connection.dialect)
    return to_db(moment) if to_db is not None else moment



def fetch(connection: Connection, name: str, params: Sequence[Any], count: int = 0, count2: int = 0) -> list[tuple]:
    """Rows of query ``name`` (IN lists of ``count`` and ``count2`` values), inside the connection's transaction.

    An IN list must not be empty: callers skip the query instead (an empty
    list is rendered as one mark, which would need a value).
    """
    return run_sql(connection, _for(connection.dialect).sql(name, count, count2), params)


def run_sql(connection: Connection, sql: str, params: Sequence[Any]) -> list[tuple]:
    """Rows of ``sql`` (in the driver's own parameter style) on the connection's DBAPI cursor.

    Inside the connection's transaction, begun here if none is: every query
    of one answer sees one snapshot. Driver errors are raised as SQLAlchemy's.
    """
    if not connection.in_transaction():
        connection.begin()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def fetch_in(connection: Connection, name: str, keys: Sequence[Any], *extra: Any) -> list[tuple]:
    """Rows of query ``name`` for ``keys`` (its one IN list), in chunks; ``extra`` parameters follow the list."""
    rows: list[tuple] = []
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        rows += fetch(connection, name, [*chunk, *extra], len(chunk))
    return rows


_remembered: dict[tuple[str, str], tuple[float, Any]] = {}


def remembered(connection: Connection, name: str, seconds: float, load: Callable[[], Any]) -> Any:
    """``load()``, or its result from less than ``seconds`` ago for the same database.

    For small answers every trace repeats and that may lag a moment behind the
    index: the latest anchored checkpoint, the participants' names.
    """
    key = (str(connection.engine.url), name)
    now = time.monotonic()
    entry = _remembered.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    _remembered[key] = (now + seconds, value)
    return value


def execute_many(connection: Connection, name: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run write ``name`` once per row (positional values), with ONE DBAPI executemany."""
    if rows:
        connection.exec_driver_sql(_for(connection.dialect).sql(name), list(rows))
