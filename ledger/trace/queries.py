"""Traces over the provenance graph: upstream history, downstream recall impact.

Every function takes a ``Session`` (or a ``Connection``) and keyword-only
limits, walks the graph breadth first with ONE edge query per layer (keys
of the layer sent together, in chunks of 500), then reads the events of
every node reached with one query, their details with another, and the
current states with a third: the cost grows with the depth of the graph,
not with the number of events.

An identifier is "in" a container over a window of ``(event time, log
index)``, from the event that packed it to the one that unpacked it, both
included. The events of a container count for its contents only inside that
window; windows compose through nesting (a pack in a case on a pallet is on
the pallet while both containments hold).

- :func:`upstream_trace`: the item's or lot's own events, those of its
  containers while it was inside, of its lot (for a serialized item whose
  lot is known), and recursively of every input it was made from, up to the
  transformation that consumed it.
- :func:`downstream_trace`: everything made from the lot (recursively), its
  serialized items, every container it went into, every place reached, and
  the current holder and location of each affected item or lot.
- :func:`contents_at`: what was inside a container at an event, or now.
- :func:`product_listing`: the lots and items known for a GTIN.

Results are plain JSON-able dicts. When a limit cuts the walk, the result
says so (``truncated`` and ``truncation``) instead of failing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from ledger.capture.query import served_event
from ledger.epcis.identifiers import DIGITAL_LINK_HOST, Identifier, parse_digital_link, parse_epc
from ledger.errors import LedgerError, NotFoundError
from ledger.trace.indexing import OrderKey, key_kind, utc
from ledger.trace.models import EDGE_AGGREGATION, EDGE_LOT, EDGE_TRANSFORMATION, TraceEdge, TraceState
from ledger.trace.sql import (
    EARLIEST,
    EVENT_COLUMNS,
    IN_CHUNK,
    LATEST,
    STATE_COLUMNS,
    db_time,
    fetch,
    fetch_in,
    remembered,
)

__all__ = [
    "DEFAULT_MAX_EDGES",
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_NODES",
    "TERMINAL_DISPOSITIONS",
    "canonical_key",
    "contents_at",
    "current_state",
    "downstream_trace",
    "lot_items",
    "participant_names",
    "product_listing",
    "upstream_trace",
]

DEFAULT_MAX_NODES = 1_000
DEFAULT_MAX_EDGES = 10_000
DEFAULT_MAX_EVENTS = 5_000
LOT_ITEMS_SHOWN = 100

TERMINAL_DISPOSITIONS = frozenset({"destroyed", "disposed", "dispensed", "retail_sold", "stolen"})
"""Dispositions after which goods have left the supply chain (sold, dispensed, gone)."""

Bound = OrderKey | None
Window = tuple[Bound, Bound]
"""[from, until) in (event time, log index) order; None is unbounded. Upper bounds
are (time, index + 1) of the last event included."""
FULL: Window = (None, None)

_state = TraceState.__table__
_edge = TraceEdge.__table__

# Which edges each kind of node is followed through, per direction. Upstream
# from a lot reached through one of its items, only the lot's own events and
# inputs count: a lot-level shipment moved some quantity of the lot, not
# necessarily this item.
_UP = "up"  # edge whose target is the node: to its containers, inputs, lot
_DOWN = "down"  # edge whose source is the node: to its outputs, items
_UPSTREAM_FOLLOWS = {
    "self": {(_UP, EDGE_AGGREGATION), (_UP, EDGE_TRANSFORMATION), (_UP, EDGE_LOT)},
    "container": {(_UP, EDGE_AGGREGATION), (_UP, EDGE_TRANSFORMATION)},
    "input": {(_UP, EDGE_AGGREGATION), (_UP, EDGE_TRANSFORMATION), (_UP, EDGE_LOT)},
    "lot": {(_UP, EDGE_TRANSFORMATION)},
}
_DOWNSTREAM_FOLLOWS = {
    "self": {(_DOWN, EDGE_TRANSFORMATION), (_DOWN, EDGE_LOT), (_UP, EDGE_AGGREGATION)},
    "output": {(_DOWN, EDGE_TRANSFORMATION), (_DOWN, EDGE_LOT), (_UP, EDGE_AGGREGATION)},
    "item": {(_DOWN, EDGE_TRANSFORMATION), (_UP, EDGE_AGGREGATION)},
    "container": {(_UP, EDGE_AGGREGATION)},
}
_GOODS = frozenset({"self", "output", "item"})


# --- windows --------------------------------------------------------------------


def _intersect(a: Window, b: Window) -> Window | None:
    lo = a[0] if b[0] is None else b[0] if a[0] is None else max(a[0], b[0])
    hi = a[1] if b[1] is None else b[1] if a[1] is None else min(a[1], b[1])
    if lo is not None and hi is not None and lo >= hi:
        return None
    return lo, hi


def _covers(outer: Window, inner: Window) -> bool:
    lo_ok = outer[0] is None or (inner[0] is not None and outer[0] <= inner[0])
    hi_ok = outer[1] is None or (inner[1] is not None and inner[1] <= outer[1])
    return lo_ok and hi_ok


def _within(window: Window, order: OrderKey) -> bool:
    return (window[0] is None or window[0] <= order) and (window[1] is None or order < window[1])


# --- small helpers ----------------------------------------------------------------


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def iso(moment: datetime | str | None) -> str | None:
    """ISO 8601 in UTC with a Z, from a datetime or a time stamp as the index returns it."""
    if moment is None:
        return None
    if type(moment) is str:
        return _iso_text(moment)
    return utc(moment).isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=8192)  # small: every entry is one more object for each full GC to visit
def _iso_text(text: str) -> str:
    return utc(text).isoformat().replace("+00:00", "Z")


def _bound_json(bound: Bound) -> dict[str, Any] | None:
    return None if bound is None else {"time": iso(bound[0]), "logIndex": bound[1]}


def _window_json(window: Window) -> dict[str, Any]:
    """A window as the events that open and close it, both included (None: open-ended)."""
    last = None if window[1] is None else (window[1][0], window[1][1] - 1)  # upper bounds are kept exclusive
    return {"from": _bound_json(window[0]), "to": _bound_json(last)}


def canonical_key(key: str | Identifier) -> str:
    """The canonical trace key of a Digital Link (URI or path) or EPC URN; raises InvalidIdentifierError."""
    if isinstance(key, Identifier):
        return key.canonical
    if key.startswith("/"):
        return parse_digital_link(key).canonical
    return parse_epc(key).canonical


def _location_gln(location: str | None) -> str | None:
    if not location:
        return None
    try:
        return parse_epc(location).gln
    except LedgerError:
        return None


@dataclass(frozen=True)
class _EdgeRow:
    source: str
    kind: str
    target: str
    start: OrderKey
    end: OrderKey | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> _EdgeRow:
        source, kind, target, start_index, start_time, end_index, end_time = row
        end = (utc(end_time), end_index) if end_index is not None else None
        return cls(source, kind, target, (utc(start_time), start_index), end)

    def window(self) -> Window:
        """When the target was inside the source: from the packing event to the unpacking event, both included."""
        return self.start, None if self.end is None else (self.end[0], self.end[1] + 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "source": self.source, "target": self.target,
            "from": _bound_json(self.start), "to": _bound_json(self.end),
        }


@dataclass
class _Node:
    key: str
    relation: str
    via: str | None
    depth: int
    windows: dict[str, list[Window]] = field(default_factory=dict)

    def all_windows(self) -> Iterable[Window]:
        for windows in self.windows.values():
            yield from windows


@dataclass
class _Graph:
    root: str
    nodes: dict[str, _Node]
    edges: dict[tuple[str, str, str, int], _EdgeRow]
    truncation: list[str]


def _layer_edges(conn: Connection, keys: list[str], direction: str, limit: int) -> list[_EdgeRow]:
    rows: list[_EdgeRow] = []
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        if direction == "upstream":
            found = fetch(conn, "edges_to", [*chunk, limit - len(rows)], len(chunk))
        else:
            found = fetch(conn, "edges_out_and_up", [*chunk, *chunk, limit - len(rows)], len(chunk), len(chunk))
        rows.extend(map(_EdgeRow.of, found))
        if len(rows) >= limit:
            break
    return rows


def _derive(direction: str, edge: _EdgeRow, window: Window) -> tuple[str, Window] | None:
    """(relation, window) of the node at the other end of ``edge``, reached from a node seen over ``window``."""
    if edge.kind == EDGE_AGGREGATION:
        inside = _intersect(window, edge.window())
        return None if inside is None else ("container", inside)
    if direction == "upstream":
        if edge.kind == EDGE_TRANSFORMATION:
            # The input's history up to and including the transformation that consumed it.
            until = (edge.start[0], edge.start[1] + 1)
            return "input", (None, until if window[1] is None else min(window[1], until))
        return "lot", window
    if edge.kind == EDGE_TRANSFORMATION:
        if not _within(window, edge.start):
            return None
        return "output", (edge.start, None)
    return "item", FULL


def _walk(conn: Connection, root: str, direction: str, max_nodes: int, max_edges: int) -> _Graph:
    follows = _UPSTREAM_FOLLOWS if direction == "upstream" else _DOWNSTREAM_FOLLOWS
    nodes = {root: _Node(root, "self", None, 0, {"self": [FULL]})}
    edges: dict[tuple[str, str, str, int], _EdgeRow] = {}
    truncation: list[str] = []
    frontier: list[tuple[str, str, Window]] = [(root, "self", FULL)]
    while frontier:
        keys = list(dict.fromkeys(key for key, _, _ in frontier))
        budget = max_edges - len(edges) + 1
        rows = _layer_edges(conn, keys, direction, budget)
        if len(rows) >= budget and f"more than {max_edges} edges" not in truncation:
            truncation.append(f"more than {max_edges} edges")
        at_source: dict[str, list[_EdgeRow]] = {}
        at_target: dict[str, list[_EdgeRow]] = {}
        for row in rows:
            at_source.setdefault(row.source, []).append(row)
            at_target.setdefault(row.target, []).append(row)
        following: list[tuple[str, str, Window]] = []
        for key, relation, window in frontier:
            allowed = follows[relation]
            candidates = [(row, _UP, row.source) for row in at_target.get(key, ())]
            candidates += [(row, _DOWN, row.target) for row in at_source.get(key, ())]
            for row, side, other in candidates:
                if (side, row.kind) not in allowed:
                    continue
                derived = _derive(direction, row, window)
                if derived is None:
                    continue
                new_relation, new_window = derived
                node = nodes.get(other)
                if node is None and len(nodes) >= max_nodes:
                    if f"more than {max_nodes} nodes" not in truncation:
                        truncation.append(f"more than {max_nodes} nodes")
                    continue
                edge_key = (row.source, row.kind, row.target, row.start[1])
                if edge_key not in edges:
                    if len(edges) >= max_edges:
                        continue
                    edges[edge_key] = row
                if node is None:
                    node = nodes[other] = _Node(other, new_relation, key, nodes[key].depth + 1)
                windows = node.windows.setdefault(new_relation, [])
                if any(_covers(seen, new_window) for seen in windows):
                    continue
                windows.append(new_window)
                following.append((other, new_relation, new_window))
        frontier = following
    return _Graph(root, nodes, edges, truncation)


@dataclass
class _EventRef:
    order: OrderKey
    applies_to: list[str]


_WINDOW_CHUNK = 300  # keys per query: 3 parameters each, under SQLite's historical limit of 999
_EVENT_ROW_COLUMNS = ("epc", *EVENT_COLUMNS)
_EVENT_BODY_COLUMNS = (*_EVENT_ROW_COLUMNS, "kind", "body")
_TIME_AT = _EVENT_ROW_COLUMNS.index("event_time")


def _events_of(
    conn: Connection, nodes: Mapping[str, _Node], max_events: int, truncation: list[str], *, with_bodies: bool
) -> tuple[list[_EventRef], dict[int, dict[str, Any]]]:
    """The events inside each node's windows, oldest first, and their rows (with log records if asked).

    One query per 300 nodes: each node's events are read between the first and
    last time its windows span (so a pallet used a thousand times costs the
    trips the item made on it, not all of them), then checked against the
    windows exactly, in (time, log index) order.
    """
    name = "events_in_windows_with_bodies" if with_bodies else "events_in_windows"
    columns = _EVENT_BODY_COLUMNS if with_bodies else _EVENT_ROW_COLUMNS
    terms: list[Any] = []
    for node in nodes.values():
        windows = list(node.all_windows())
        lo = EARLIEST if any(w[0] is None for w in windows) else min(w[0][0] for w in windows)  # type: ignore[index]
        hi = LATEST if any(w[1] is None for w in windows) else max(w[1][0] for w in windows)  # type: ignore[index]
        terms.append((node.key, db_time(conn, lo), db_time(conn, hi)))
    found: dict[int, _EventRef] = {}
    rows: dict[int, dict[str, Any]] = {}
    for start in range(0, len(terms), _WINDOW_CHUNK):
        chunk = terms[start : start + _WINDOW_CHUNK]
        for row in fetch(conn, name, [value for term in chunk for value in term], len(chunk)):
            epc, record_index, event_time = row[0], row[1], row[_TIME_AT]
            ref = found.get(record_index)
            if ref is not None and epc in ref.applies_to:
                continue
            order = (utc(event_time), record_index)
            if not any(_within(window, order) for window in nodes[epc].all_windows()):
                continue
            if ref is None:
                found[record_index] = _EventRef(order, [epc])
                rows[record_index] = dict(zip(columns, row))
            else:
                ref.applies_to.append(epc)
    refs = sorted(found.values(), key=lambda ref: ref.order)
    if len(refs) > max_events:
        truncation.append(f"more than {max_events} events (the earliest {max_events} are listed)")
        refs = refs[:max_events]
    return refs, rows


def _states(conn: Connection, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {row[0]: dict(zip(STATE_COLUMNS, row)) for row in fetch_in(conn, "states", list(keys))}


PARTICIPANTS_CACHED = 10_000
"""Up to this many participants, the directory is read once a second, not once per trace."""


def _directory(conn: Connection) -> dict[str, tuple[str, str]] | None:
    """All participants, id -> (GLN, name), re-read at most once a second; None if too many to keep."""

    def load() -> dict[str, tuple[str, str]] | None:
        rows = fetch(conn, "all_participants", [PARTICIPANTS_CACHED + 1])
        return None if len(rows) > PARTICIPANTS_CACHED else {pid: (gln, name) for pid, gln, name in rows}

    return remembered(conn, "participants", 1.0, load)


def _participants_of(conn: Connection, ids: Iterable[str | None], locations: Iterable[str | None]) -> tuple[dict, dict]:
    """Names of participants by id, and by the GLN of each location: ({id: {...}}, {location: name})."""
    wanted_ids = sorted({i for i in ids if i})
    location_glns = {location: _location_gln(location) for location in set(locations) if location}
    glns = sorted({g for g in location_glns.values() if g})
    by_id: dict[str, dict[str, str]] = {}
    by_gln: dict[str, str] = {}
    directory = _directory(conn)
    if directory is not None:
        rows = [(pid, *directory[pid]) for pid in wanted_ids if pid in directory]
        wanted_glns = set(glns)
        rows += [(pid, gln, name) for pid, (gln, name) in directory.items() if gln in wanted_glns]
    else:
        rows = []
        for start in range(0, max(len(wanted_ids), len(glns)), IN_CHUNK):
            some_ids, some_glns = wanted_ids[start : start + IN_CHUNK] or [""], glns[start : start + IN_CHUNK] or [""]
            rows += fetch(conn, "participants", [*some_ids, *some_glns], len(some_ids), len(some_glns))
    for pid, gln, name in rows:
        if pid in wanted_ids:
            by_id[pid] = {"name": name, "gln": gln}
        by_gln[gln] = name
    names = {location: by_gln[gln] for location, gln in location_glns.items() if gln in by_gln}
    return by_id, names


def participant_names(session: Session | Connection, ids: Iterable[str | None]) -> dict[str, dict[str, str]]:
    """Participant id -> {"name", "gln"} for the registered ones among ``ids``."""
    return _participants_of(_connection(session), ids, ())[0]


def _state_json(row: Mapping[str, Any] | None, parties: Mapping[str, Any], places: Mapping[str, str]) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "key": row["epc"],
        "kind": row["kind"],
        "disposition": row["disposition"],
        "bizStep": row["biz_step"],
        "location": row["location"],
        "locationName": places.get(row["location"]) if row["location"] else None,
        "participantId": row["participant_id"],
        "participant": parties.get(row["participant_id"]),
        "via": row["via"],
        "lastLogIndex": row["last_index"],
        "lastEventTime": iso(row["last_time"]),
        "firstLogIndex": row["first_index"],
        "terminal": row["disposition"] in TERMINAL_DISPOSITIONS,
    }


def _event_summary(ref: _EventRef, row: Mapping[str, Any], nodes: Mapping[str, _Node], root: str) -> dict[str, Any]:
    relation = "self" if root in ref.applies_to else nodes[ref.applies_to[0]].relation
    return {
        "logIndex": row["record_index"],
        "eventHashID": row["hash_id"],
        "eventTime": iso(row["event_time"]),
        "type": row["event_type"],
        "action": row["action"],
        "bizStep": row["biz_step"],
        "disposition": row["disposition"],
        "location": row["biz_location"] or row["read_point"],
        "participantId": row["participant_id"],
        "appliesTo": ref.applies_to,
        "relation": relation,
    }


def _node_json(node: _Node, state: dict[str, Any] | None) -> dict[str, Any]:
    kind, _ = key_kind(node.key)
    return {
        "key": node.key,
        "kind": kind,
        "relation": node.relation,
        "via": node.via,
        "depth": node.depth,
        "windows": [_window_json(w) for w in node.all_windows()],
        "state": state,
    }


def _lot_items(conn: Connection, lot: str, limit: int = LOT_ITEMS_SHOWN) -> dict[str, Any]:
    rows = [target for (target,) in fetch(conn, "lot_items", [lot, limit + 1])]
    return {"items": list(dict.fromkeys(rows[:limit])), "more": len(rows) > limit}


def lot_items(session: Session | Connection, lot_key: str | Identifier, *, limit: int = LOT_ITEMS_SHOWN) -> dict[str, Any]:
    """The serialized items known for a lot (``items``, canonical keys) and whether there are ``more``."""
    return _lot_items(_connection(session), canonical_key(lot_key), limit)


def _limits(max_nodes: int, max_edges: int, max_events: int) -> dict[str, int]:
    return {"maxNodes": max_nodes, "maxEdges": max_edges, "maxEvents": max_events}


def _check_limits(**limits: int) -> None:
    for name, value in limits.items():
        if value < 1:
            raise LedgerError(f"{name} must be at least 1, got {value}")


# --- public queries -------------------------------------------------------------------


def current_state(session: Session | Connection, key: str | Identifier) -> dict[str, Any] | None:
    """The current state of one identifier (None if no event names it)."""
    conn = _connection(session)
    root = canonical_key(key)
    row = _states(conn, [root]).get(root)
    if row is None:
        return None
    parties, places = _participants_of(conn, [row["participant_id"]], [row["location"]])
    return _state_json(row, parties, places)


def upstream_trace(
    session: Session | Connection,
    key: str | Identifier,
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    max_events: int = DEFAULT_MAX_EVENTS,
    with_records: bool = True,
) -> dict[str, Any]:
    """The full history of an item, lot or container, oldest event first.

    ``events`` lists each event once, with its log index, the keys of the
    trace it applies to (``appliesTo``) and how it relates to ``key``
    (``self``, ``container``, ``lot``, ``input``); with ``with_records``,
    the event as served by the event query (``event``) and its log record
    (``record``: kind and body, to recompute the leaf hash). ``nodes`` are
    the identifiers reached, each with its windows and current state.
    Raises NotFoundError if nothing is recorded for ``key``.
    """
    _check_limits(max_nodes=max_nodes, max_edges=max_edges, max_events=max_events)
    conn = _connection(session)
    root = canonical_key(key)
    graph = _walk(conn, root, "upstream", max_nodes, max_edges)
    refs, rows = _events_of(conn, graph.nodes, max_events, graph.truncation, with_bodies=with_records)
    kind, _ = key_kind(root)
    lot_items = _lot_items(conn, root) if kind == "lot" else None
    states = _states(conn, graph.nodes)
    if root not in states and not refs and len(graph.nodes) == 1 and not (lot_items and lot_items["items"]):
        raise NotFoundError(f"no events recorded for {root}")
    parties, places = _participants_of(
        conn,
        [*(r["participant_id"] for r in rows.values()), *(s["participant_id"] for s in states.values())],
        [*(r["biz_location"] or r["read_point"] for r in rows.values()), *(s["location"] for s in states.values())],
    )
    events = []
    for ref in refs:
        row = rows[ref.order[1]]
        entry = _event_summary(ref, row, graph.nodes, root)
        if with_records:
            entry["event"] = served_event(row["hash_id"], row["record_index"], row["body"])
            entry["record"] = {"index": row["record_index"], "kind": row["kind"], "body": row["body"]}
        events.append(entry)
    result: dict[str, Any] = {
        "direction": "upstream",
        "key": root,
        "digitalLink": DIGITAL_LINK_HOST + root,
        "kind": kind,
        "state": _state_json(states.get(root), parties, places),
        "events": events,
        "nodes": [_node_json(n, _state_json(states.get(n.key), parties, places)) for n in graph.nodes.values()],
        "edges": [edge.as_json() for edge in graph.edges.values()],
        "participants": parties,
        "locationNames": places,
        "truncated": bool(graph.truncation),
        "truncation": graph.truncation,
        "limits": _limits(max_nodes, max_edges, max_events),
    }
    if lot_items is not None:
        result["lotItems"] = lot_items
    if kind in ("container", "asset"):
        result["contents"] = contents_at(conn, root, max_nodes=max_nodes)["contents"]
    return result


def downstream_trace(
    session: Session | Connection,
    lot_key: str | Identifier,
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> dict[str, Any]:
    """The recall impact report of a lot (or of any item or container).

    ``affected``: the lot and every lot or item made from it (recursively
    through transformations) and its serialized items, each with its current
    state: who last handled it (participant) and where (location), in which
    disposition; ``terminal`` when it left the supply chain (sold,
    dispensed...). ``containers``: every case, pallet or asset it went into,
    with the windows it was inside and whether it still is. ``holders``: the
    affected goods grouped by current holder and location. ``places``: every
    location it (or a container while holding it) reached, with the events
    there. Raises NotFoundError if nothing is recorded for the key.
    """
    _check_limits(max_nodes=max_nodes, max_edges=max_edges, max_events=max_events)
    conn = _connection(session)
    root = canonical_key(lot_key)
    graph = _walk(conn, root, "downstream", max_nodes, max_edges)
    refs, rows = _events_of(conn, graph.nodes, max_events, graph.truncation, with_bodies=False)
    states = _states(conn, graph.nodes)
    if root not in states and not refs and len(graph.nodes) == 1:
        raise NotFoundError(f"no events recorded for {root}")
    parties, places = _participants_of(
        conn,
        [*(r["participant_id"] for r in rows.values()), *(s["participant_id"] for s in states.values())],
        [*(r["biz_location"] or r["read_point"] for r in rows.values()), *(s["location"] for s in states.values())],
    )
    events = [_event_summary(ref, rows[ref.order[1]], graph.nodes, root) for ref in refs]

    affected, containers = [], []
    holders: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for node in graph.nodes.values():
        state = _state_json(states.get(node.key), parties, places)
        entry = _node_json(node, state)
        if node.relation in _GOODS:
            affected.append(entry)
            if state is None:
                continue  # a lot known only through its items has no holder of its own
            holder_key = (state["participantId"], state["location"])
            holder = holders.get(holder_key)
            if holder is None:
                holder = holders[holder_key] = {
                    "participantId": holder_key[0],
                    "participant": parties.get(holder_key[0]) if holder_key[0] else None,
                    "location": holder_key[1],
                    "locationName": places.get(holder_key[1]) if holder_key[1] else None,
                    "keys": [],
                    "dispositions": {},
                    "inSupplyChain": 0,
                }
            holder["keys"].append(node.key)
            disposition = state["disposition"] or "unknown"
            holder["dispositions"][disposition] = holder["dispositions"].get(disposition, 0) + 1
            if not state["terminal"]:
                holder["inSupplyChain"] += 1
        else:
            entry["containsNow"] = any(window[1] is None for window in node.all_windows())
            containers.append(entry)

    reached: dict[str, dict[str, Any]] = {}
    for event in events:
        location = event["location"]
        if not location:
            continue
        place = reached.get(location)
        if place is None:
            place = reached[location] = {
                "location": location, "name": places.get(location), "firstTime": event["eventTime"],
                "lastTime": event["eventTime"], "eventCount": 0, "bizSteps": [], "participants": [],
            }
        place["lastTime"] = event["eventTime"]
        place["eventCount"] += 1
        if event["bizStep"] and event["bizStep"] not in place["bizSteps"]:
            place["bizSteps"].append(event["bizStep"])
        if event["participantId"] and event["participantId"] not in place["participants"]:
            place["participants"].append(event["participantId"])

    return {
        "direction": "downstream",
        "key": root,
        "digitalLink": DIGITAL_LINK_HOST + root,
        "kind": key_kind(root)[0],
        "state": _state_json(states.get(root), parties, places),
        "affected": affected,
        "containers": containers,
        "holders": list(holders.values()),
        "places": list(reached.values()),
        "events": events,
        "edges": [edge.as_json() for edge in graph.edges.values()],
        "participants": parties,
        "locationNames": places,
        "truncated": bool(graph.truncation),
        "truncation": graph.truncation,
        "limits": _limits(max_nodes, max_edges, max_events),
    }


def contents_at(
    session: Session | Connection,
    container_key: str | Identifier,
    *,
    log_index: int | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> dict[str, Any]:
    """What was inside a container (recursively: cases on a pallet, packs in the cases).

    At the event of log index ``log_index`` (e.g. the pallet's shipping
    event: what was shipped), or now when None.
    """
    _check_limits(max_nodes=max_nodes)
    conn = _connection(session)
    root = canonical_key(container_key)
    at: OrderKey | None = None
    if log_index is not None:
        moment = fetch(conn, "event_time", [log_index])
        if not moment:
            raise NotFoundError(f"no event at log index {log_index}")
        at = (utc(moment[0][0]), log_index)
    found: dict[str, dict[str, Any]] = {}
    truncation: list[str] = []
    frontier, depth = [root], 1
    while frontier:
        following = []
        query = "containments_from" if at is not None else "open_containments_from"
        for row in map(_EdgeRow.of, fetch_in(conn, query, frontier)):
            if at is not None and not _within(row.window(), at):
                continue
            if row.target in found or row.target == root:
                continue
            if len(found) >= max_nodes:
                if not truncation:
                    truncation.append(f"more than {max_nodes} nodes")
                break
            found[row.target] = {
                "key": row.target, "kind": key_kind(row.target)[0], "parent": row.source, "depth": depth,
                "from": _bound_json(row.start), "to": _bound_json(row.end),
            }
            following.append(row.target)
        frontier, depth = following, depth + 1
    return {
        "key": root,
        "at": _bound_json(at) if at else None,
        "contents": list(found.values()),
        "truncated": bool(truncation),
        "truncation": truncation,
    }


def product_listing(session: Session | Connection, gtin_key: str | Identifier, *, limit: int = 1000) -> dict[str, Any]:
    """The lots and serialized items known for a product (``/01/<gtin>``), with their current state."""
    _check_limits(limit=limit)
    conn = _connection(session)
    root = canonical_key(gtin_key)
    _, gtin = key_kind(root)
    if gtin is None:
        raise LedgerError(f"{root} is not a product (GTIN) key")
    rows = conn.execute(
        sa.select(_state).where(_state.c.gtin == gtin).order_by(_state.c.gtin, _state.c.kind, _state.c.epc).limit(limit + 1)
    ).mappings().all()
    lot_rows = conn.execute(
        # A key range, not LIKE (which SQLite cannot answer from the index): "0" follows "/".
        sa.select(_edge.c.source).distinct().where(
            _edge.c.source >= f"/01/{gtin}/10/", _edge.c.source < f"/01/{gtin}/100", _edge.c.kind == EDGE_LOT
        ).limit(limit + 1)
    ).scalars().all()
    if not rows and not lot_rows:
        raise NotFoundError(f"no events recorded for {root}")
    shown = rows[:limit]
    parties, places = _participants_of(conn, [r["participant_id"] for r in shown], [r["location"] for r in shown])
    states = {r["epc"]: _state_json(r, parties, places) for r in shown}
    lots = [s for s in states.values() if s["kind"] == "lot"]
    listed_lots = {s["key"] for s in lots}
    lots += [{"key": lot, "kind": "lot", "noEventsOfItsOwn": True} for lot in lot_rows[:limit] if lot not in listed_lots]
    return {
        "key": root,
        "digitalLink": DIGITAL_LINK_HOST + root,
        "gtin": gtin,
        "state": states.get(f"/01/{gtin}"),
        "lots": lots,
        "items": [s for s in states.values() if s["kind"] == "item"],
        "truncated": len(rows) > limit or len(lot_rows) > limit,
    }
