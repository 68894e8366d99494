"""Maintain the traceability index (``ledger.trace.models``) from stored events.

:func:`index_provenance` runs inside the capture's transaction, on the
events that capture appended, in log order; :func:`rebuild_provenance`
empties the tables and replays every ``epcis.event`` record of the log
through the same function, so a rebuild gives exactly what incremental
indexing gave (the tests check it).

What an event does, in order:

1. containment (AggregationEvent): ``ADD`` and ``OBSERVE`` open an
   ``aggregation`` edge parent -> child unless one is open already; a
   serialized child (item, SSCC, asset) is in one parent at a time, so
   packing it into another parent ends the previous containment. ``DELETE``
   ends the containments it names, all of the parent's when it names no
   child (EPCIS: "all children removed"), and every containment of the
   children it names when it has no parent.
2. transformation: an edge from each input to each output; with a
   ``transformationID``, from every input to every output seen under that ID
   so far (a transformation may be recorded over several events).
3. lots: a serialized item whose Digital Link carries a lot (``/10/``), or
   that is created with ILMD ``lotNumber``, gets a ``lot`` edge from its lot.
4. current state: every identifier the event names, and everything inside
   those identifiers at that moment (the contents of a shipped pallet), takes
   the event's location (bizLocation, else readPoint), bizStep and
   disposition (each only when the event has one), its author and log index.
   An event older (by event time, then log index) than the state's last
   event changes no state: late captures do not roll current state back.

The batch costs a fixed handful of queries whatever its size (states,
open containments and their contents, lot edges and transformation parts
are read once, in chunks of 500 keys), then one bulk write per table.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.errors import LedgerError
from ledger.index.bulk import insert_rows
from ledger.trace.models import (
    EDGE_AGGREGATION,
    EDGE_LOT,
    EDGE_TRANSFORMATION,
    TraceEdge,
    TraceState,
    TraceTransformationPart,
)
from ledger.trace.sql import EDGE_COLUMNS, PART_COLUMNS, STATE_COLUMNS, execute_many, fetch_in, time_processor

__all__ = ["StoredEvent", "index_provenance", "key_kind", "rebuild_provenance", "utc"]

MAX_CONTENTS_PER_BATCH = 200_000
"""Containment rows a batch loads to propagate container events to their contents."""

OrderKey = tuple[datetime, int]
"""(event time, log index): the order of events in traces and current state."""

_state = TraceState.__table__
_edge = TraceEdge.__table__
_part = TraceTransformationPart.__table__

_KIND_BY_AI = {"00": "container", "8003": "asset", "8004": "asset"}
_CLASS_KINDS = frozenset({"lot", "product"})
_LOT_ILMD_KEYS = ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber", "urn:epcglobal:cbv:mda#lotNumber")
_INSTANCE_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_ILMD_FIELDS = frozenset({"epcList", "outputEPCList"})  # the objects an event's ILMD describes


@dataclass(frozen=True)
class StoredEvent:
    """An event just appended to the log, as capture knows it."""

    record_index: int
    event: Mapping[str, Any]  # normalised by ledger.epcis.validate
    identifiers: Sequence[tuple[str, str]]  # (canonical key, role), see ledger.capture.service.event_identifiers
    participant_id: str | None


def utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from an ISO 8601 text or a datetime read back from the index.

    SQLite gives text back (stored in UTC, without zone); PostgreSQL aware datetimes.
    """
    if type(value) is str:
        return _utc_text(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


@functools.lru_cache(maxsize=8192)  # small: every entry is one more object for each full GC to visit
def _utc_text(text: str) -> datetime:
    # Traces read the same time stamps over and over (an event's time, the edges it opened and closed).
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def key_kind(key: str) -> tuple[str, str | None]:
    """(kind, GTIN) of a canonical key: ``item``, ``lot``, ``product``, ``container``, ``asset`` or ``other``."""
    parts = key.split("/", 5)
    ai = parts[1] if len(parts) > 2 else ""
    if ai == "01":
        if len(parts) > 4 and parts[3] == "21":
            return "item", parts[2]
        if len(parts) > 4 and parts[3] == "10":
            return "lot", parts[2]
        return "product", parts[2]
    return _KIND_BY_AI.get(ai, "other"), None


def is_class_key(key: str) -> bool:
    return key_kind(key)[0] in _CLASS_KINDS


def _place(value: Any) -> str | None:
    return value.get("id") if isinstance(value, Mapping) else None


@functools.lru_cache(maxsize=16_384)
def _lot_key(gtin: str, lot: str) -> str | None:
    from ledger.epcis.identifiers import parse_epc

    try:
        return parse_epc(f"https://id.gs1.org/01/{gtin}/10/{quote(lot, safe='')}").canonical
    except LedgerError:
        return None  # an ILMD lot number that is no valid AI (10) value names no lot key


def lot_links(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(lot key, item key) for each serialized item the event ties to a lot."""
    from ledger.epcis.identifiers import parse_epc

    ilmd_lot = None
    ilmd = event.get("ilmd")
    if isinstance(ilmd, Mapping):
        ilmd_lot = next((ilmd[k] for k in _LOT_ILMD_KEYS if isinstance(ilmd.get(k), str)), None)
    links: list[tuple[str, str]] = []
    for field in _INSTANCE_FIELDS:
        for raw in event.get(field) or ():
            identifier = parse_epc(raw)
            if identifier.serial is None or identifier.gtin is None:
                continue
            lot = identifier.lot if identifier.lot is not None else (ilmd_lot if field in _ILMD_FIELDS else None)
            if lot is None:
                continue
            lot_key = _lot_key(identifier.gtin, lot)
            if lot_key is not None:
                links.append((lot_key, identifier.canonical))
    return list(dict.fromkeys(links))


class _State:
    __slots__ = (
        "biz_step",
        "dirty",
        "disposition",
        "epc",
        "first_index",
        "gtin",
        "kind",
        "last_index",
        "last_time",
        "location",
        "new",
        "participant_id",
        "via",
    )

    def __init__(self, row: Sequence[Any], *, new: bool) -> None:
        """``row``: values in ``ledger.trace.sql.STATE_COLUMNS`` order."""
        (self.epc, self.kind, self.gtin, self.disposition, self.location, self.biz_step, self.participant_id,
         self.via, self.last_index, last_time, self.first_index) = row
        self.last_time = utc(last_time)
        self.new = new
        self.dirty = new

    def insert_values(self, to_db: Callable[[datetime], Any]) -> tuple:
        """In ``ledger.trace.sql.STATE_COLUMNS`` order."""
        return (self.epc, self.kind, self.gtin, self.disposition, self.location, self.biz_step, self.participant_id,
                self.via, self.last_index, to_db(self.last_time), self.first_index)

    def update_values(self, to_db: Callable[[datetime], Any]) -> tuple:
        """For the ``update_state`` write."""
        return (self.disposition, self.location, self.biz_step, self.participant_id, self.via, self.last_index,
                to_db(self.last_time), self.epc)


class _Edge:
    __slots__ = ("end_index", "end_time", "kind", "new", "source", "start_index", "start_time", "target")

    def __init__(self, source: str, kind: str, target: str, start: OrderKey, *, new: bool,
                 end: OrderKey | None = None) -> None:
        self.source, self.kind, self.target = source, kind, target
        self.start_time, self.start_index = start
        self.end_time, self.end_index = end if end is not None else (None, None)
        self.new = new

    def insert_values(self, to_db: Callable[[datetime], Any]) -> tuple:
        """In ``ledger.trace.sql.EDGE_COLUMNS`` order."""
        end_time = None if self.end_time is None else to_db(self.end_time)
        return (self.source, self.kind, self.target, self.start_index, to_db(self.start_time), self.end_index, end_time)

    def close_values(self, to_db: Callable[[datetime], Any]) -> tuple:
        """For the ``close_edge`` write."""
        return (self.end_index, to_db(self.end_time), self.source, self.kind, self.target, self.start_index)


@dataclass
class _Prepared:
    order: OrderKey
    stored: StoredEvent
    lot_links: list[tuple[str, str]]
    transformation: str | None  # sha-256 hex of the transformationID


class _Batch:
    def __init__(self, connection: Connection, events: Sequence[StoredEvent]) -> None:
        self.conn = connection
        self.prepared = [self._prepare(stored) for stored in events]
        self.states: dict[str, _State] = {}
        self.children: dict[str, dict[str, _Edge]] = {}  # open containments: parent -> child -> edge
        self.parents: dict[str, dict[str, _Edge]] = {}  # open containments: child -> parent -> edge
        self.new_edges: list[_Edge] = []
        self.closed_edges: list[_Edge] = []  # stored edges this batch ends
        self.lot_pairs: set[tuple[str, str]] = set()
        self.parts: dict[str, dict[str, dict[str, None]]] = {}  # transformation -> role -> keys (ordered)
        self.new_parts: list[tuple] = []  # PART_COLUMNS order

    @staticmethod
    def _prepare(stored: StoredEvent) -> _Prepared:
        event = stored.event
        order = (utc(event["eventTime"]), stored.record_index)
        tid = event.get("transformationID") if event.get("type") == "TransformationEvent" else None
        digest = hashlib.sha256(tid.encode()).hexdigest() if isinstance(tid, str) else None
        return _Prepared(order, stored, lot_links(event), digest)

    # --- reading what the batch needs -----------------------------------------

    def load(self) -> None:
        touched = list(dict.fromkeys(key for p in self.prepared for key, _ in p.stored.identifiers))
        self._load_containment(touched)
        named = set(touched)
        for row in fetch_in(self.conn, "states", [*touched, *(key for key in self.parents if key not in named)]):
            self.states[row[0]] = _State(row, new=False)
        items = list(dict.fromkeys(item for p in self.prepared for _, item in p.lot_links))
        self.lot_pairs.update(fetch_in(self.conn, "lot_edges_to", items))
        transformations = list(dict.fromkeys(p.transformation for p in self.prepared if p.transformation))
        for transformation, role, epc in fetch_in(self.conn, "transformation_parts", transformations):
            self._parts_of(transformation)[role][epc] = None

    def _open(self, edge: _Edge) -> None:
        self.children.setdefault(edge.source, {})[edge.target] = edge
        self.parents.setdefault(edge.target, {})[edge.source] = edge

    def _load_containment(self, touched: list[str]) -> None:
        loaded = 0

        def add(rows: Iterable[tuple]) -> list[str]:
            nonlocal loaded
            found = []
            for source, _, target, start_index, start_time, _, _ in rows:
                if target in self.children.get(source, ()):
                    continue
                self._open(_Edge(source, EDGE_AGGREGATION, target, (utc(start_time), start_index), new=False))
                found.append(target)
                loaded += 1
            return found

        # Where each named object is now (a serialized child moved to another parent leaves the old one)...
        add(fetch_in(self.conn, "open_containments_to", touched))
        # ...and everything inside each named object, level by level (an event on it applies to them).
        asked: set[str] = set()
        frontier = touched
        while frontier and loaded < MAX_CONTENTS_PER_BATCH:
            frontier = [key for key in dict.fromkeys(frontier) if key not in asked]
            asked.update(frontier)
            frontier = add(fetch_in(self.conn, "open_containments_from", frontier))

    def _parts_of(self, transformation: str) -> dict[str, dict[str, None]]:
        return self.parts.setdefault(transformation, {"input": {}, "output": {}})

    # --- applying events in log order -------------------------------------------

    def apply(self, prepared: _Prepared) -> None:
        stored, order = prepared.stored, prepared.order
        event = stored.event
        by_role: dict[str, list[str]] = {}
        for key, role in stored.identifiers:
            by_role.setdefault(role, []).append(key)
        event_type, action = event.get("type"), event.get("action")

        if event_type == "AggregationEvent":
            parent = by_role["parent"][0] if by_role.get("parent") else None
            children = by_role.get("child", [])
            if action in ("ADD", "OBSERVE") and parent is not None:
                for child in children:
                    self._contain(parent, child, order)
            elif action == "DELETE" and parent is not None:
                for child in children or list(self.children.get(parent, {})):
                    self._release(parent, child, order)
            elif action == "DELETE":  # no parent: the children left whatever held them
                for child in children:
                    for holder in list(self.parents.get(child, {})):
                        self._release(holder, child, order)
        elif event_type == "TransformationEvent":
            self._transform(prepared, by_role.get("input", []), by_role.get("output", []))
        for lot, item in prepared.lot_links:
            if (lot, item) not in self.lot_pairs:
                self.lot_pairs.add((lot, item))
                self._new_edge(_Edge(lot, EDGE_LOT, item, order, new=True))

        direct = list(dict.fromkeys(key for key, _ in stored.identifiers))
        for key in direct:
            self._update(key, order, event, stored.participant_id, None)
        reached = set(direct)
        for key in direct:
            for inside in self._contents(key):
                if inside not in reached:
                    reached.add(inside)
                    self._update(inside, order, event, stored.participant_id, key)

    def _new_edge(self, edge: _Edge) -> None:
        self.new_edges.append(edge)

    def _contain(self, parent: str, child: str, order: OrderKey) -> None:
        current = self.parents.get(child, {})
        if parent in current:
            return
        if not is_class_key(child):  # one object is in one place: packing it elsewhere unpacks it here
            for other in list(current):
                self._release(other, child, order)
        edge = _Edge(parent, EDGE_AGGREGATION, child, order, new=True)
        self._new_edge(edge)
        self._open(edge)

    def _release(self, parent: str, child: str, order: OrderKey) -> None:
        edge = self.children.get(parent, {}).pop(child, None)
        if edge is None:
            return  # not inside (unpacked already, or packed before the index knew): nothing to end
        self.parents.get(child, {}).pop(parent, None)
        edge.end_time, edge.end_index = order
        if not edge.new:
            self.closed_edges.append(edge)

    def _transform(self, prepared: _Prepared, inputs: list[str], outputs: list[str]) -> None:
        order = prepared.order
        if prepared.transformation is None:
            pairs = [(i, o) for i in inputs for o in outputs]
        else:
            parts = self._parts_of(prepared.transformation)
            new_inputs = [i for i in inputs if i not in parts["input"]]
            new_outputs = [o for o in outputs if o not in parts["output"]]
            for role, keys in (("input", new_inputs), ("output", new_outputs)):
                for key in keys:
                    parts[role][key] = None
                    self.new_parts.append((prepared.transformation, role, key, order[1], order[0]))
            fresh_inputs, fresh_outputs = set(new_inputs), set(new_outputs)
            pairs = [(i, o) for i in parts["input"] for o in parts["output"] if i in fresh_inputs or o in fresh_outputs]
        for source, target in pairs:
            if source != target:
                self._new_edge(_Edge(source, EDGE_TRANSFORMATION, target, order, new=True))

    def _contents(self, key: str) -> Iterator[str]:
        stack = list(self.children.get(key, ()))
        seen = {key}
        while stack:
            inside = stack.pop()
            if inside in seen:
                continue
            seen.add(inside)
            yield inside
            stack.extend(self.children.get(inside, ()))

    def _update(self, key: str, order: OrderKey, event: Mapping[str, Any], participant_id: str | None, via: str | None) -> None:
        state = self.states.get(key)
        if state is None:
            kind, gtin = key_kind(key)
            state = _State((key, kind, gtin, None, None, None, None, None, order[1], order[0], order[1]), new=True)
            self.states[key] = state
        elif order < (state.last_time, state.last_index):
            return
        state.last_time, state.last_index = order
        state.participant_id = participant_id
        state.via = via
        if event.get("bizStep"):
            state.biz_step = event["bizStep"]
        if event.get("disposition"):
            state.disposition = event["disposition"]
        location = _place(event.get("bizLocation")) or _place(event.get("readPoint"))
        if location:
            state.location = location
        state.dirty = True

    # --- writing ----------------------------------------------------------------

    def write(self) -> None:
        connection = self.conn
        to_db = time_processor(connection.dialect) or _as_is  # stored exactly as SQLAlchemy stores them
        _insert(connection, "insert_state", _state, STATE_COLUMNS,
                [s.insert_values(to_db) for s in self.states.values() if s.new])
        execute_many(connection, "update_state",
                     [s.update_values(to_db) for s in self.states.values() if s.dirty and not s.new])
        _insert(connection, "insert_edge", _edge, EDGE_COLUMNS, [e.insert_values(to_db) for e in self.new_edges])
        execute_many(connection, "close_edge", [e.close_values(to_db) for e in self.closed_edges])
        _insert(connection, "insert_part", _part, PART_COLUMNS,
                [(*part[:4], to_db(part[4])) for part in self.new_parts])


def _as_is(value: Any) -> Any:
    return value


def _insert(connection: Connection, write: str, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert positional ``rows``: COPY on PostgreSQL (psycopg), one executemany elsewhere.

    Measured on SQLite: SQLAlchemy's executemany spends ~10 µs per row on
    parameter processing, more than SQLite spends storing the row.
    """
    if connection.dialect.driver == "psycopg":
        insert_rows(connection, table, [dict(zip(columns, row)) for row in rows])
    else:
        execute_many(connection, write, rows)


def index_provenance(connection: Connection, events: Sequence[StoredEvent]) -> None:
    """Apply ``events`` (newly stored, in log order) to the traceability index, in the caller's transaction."""
    if not events:
        return
    batch = _Batch(connection, events)
    batch.load()
    for prepared in batch.prepared:
        batch.apply(prepared)
    batch.write()


def rebuild_provenance(engine: Engine, *, batch_size: int = 2000) -> int:
    """Empty the traceability tables and replay every ``epcis.event`` record in log order.

    Runs in one transaction holding the log's sequencing lock, so no capture
    interleaves; readers see the old index until it commits. Each record's
    event is normalised again as capture did; its author's participant is
    read from ``epcis_event``, else from the participants mirror by signer
    key. Returns the number of events replayed.
    """
    from ledger.capture.models import EpcisEvent
    from ledger.capture.service import EVENT_KIND, event_identifiers
    from ledger.epcis.validate import validate_event
    from ledger.participants.models import ParticipantKey
    from ledger.records.append import log_writer
    from ledger.records.models import Record

    records, events, keys = Record.__table__, EpcisEvent.__table__, ParticipantKey.__table__
    replayed = 0
    with log_writer(engine) as writer:
        connection = writer.session.connection()
        for table in (_edge, _state, _part):
            connection.execute(sa.delete(table))
        signer_participant: dict[str, str | None] = {}
        after = -1
        while True:
            rows = connection.execute(
                sa.select(records.c.index, records.c.body, events.c.participant_id)
                .select_from(records.outerjoin(events, events.c.record_index == records.c.index))
                .where(records.c.kind == EVENT_KIND, records.c.index > after)
                .order_by(records.c.index)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            stored = []
            for index, body, participant_id in rows:
                record = json.loads(body)
                event = validate_event(record["event"])
                if participant_id is None:
                    signer = record.get("signer")
                    if signer not in signer_participant:
                        signer_participant[signer] = connection.execute(
                            sa.select(keys.c.participant_id).where(keys.c.address == signer)
                        ).scalar()
                    participant_id = signer_participant[signer]
                stored.append(StoredEvent(index, event, event_identifiers(event), participant_id))
            index_provenance(connection, stored)
            replayed += len(stored)
            after = rows[-1][0]
    return replayed


def main() -> None:
    """``python -m ledger.trace.indexing``: rebuild the traceability index of the configured data dir."""
    from ledger.config import Settings
    from ledger.index.db import open_index

    engine = open_index(Settings().index_url)
    try:
        count = rebuild_provenance(engine)
    finally:
        engine.dispose()
    print(f"traceability index rebuilt from {count} events")


if __name__ == "__main__":
    main()
