"""Audit the index's projections of the log against the log itself.

The API answers queries and traces from tables that capture derives from
each event it appends: the event index (``epcis_event``, ``epcis_event_epc``)
and the traceability index (``trace_state``, ``trace_edge``,
``trace_transformation_part``). Someone with the database in hand could edit
them so that a consumer page shows another location, or a recall no longer
reaches a product, while every record and leaf stays intact.

This audit replays every ``epcis.event`` record, in log order, into an empty
in-memory database with the functions capture uses, then compares each
projected table with its rebuilt twin row by row, in primary-key order.

Preconditions: the records are the log's (``audit_log`` checks them; a
record edited there also shows here, as the rows it changed); an event's
author organisation is read from the participants mirror by signer key,
which the registry indexer keeps equal to the chain's events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from ledger.audit.report import AuditReport, Discrepancy, Progress
from ledger.capture.models import EpcisEvent, EpcisEventEpc
from ledger.capture.projection import CAPTURE_KIND, EVENT_KIND, event_identifiers, event_row, identifier_rows
from ledger.epcis.validate import validate_event
from ledger.errors import LedgerError
from ledger.participants.models import ParticipantKey
from ledger.records.models import Record
from ledger.trace.indexing import StoredEvent, index_provenance, utc
from ledger.trace.models import TraceEdge, TraceState, TraceTransformationPart

PROJECTED_TABLES: tuple[sa.Table, ...] = (
    EpcisEvent.__table__,
    EpcisEventEpc.__table__,
    TraceState.__table__,
    TraceEdge.__table__,
    TraceTransformationPart.__table__,
)

REPLAY_BATCH = 2_000
"""Events replayed per provenance batch (capture's documents are of this order)."""

NAMED_PER_TABLE = 20
"""Discrepancies named one by one in each table before the audit only counts the rest."""

def audit_projections(engine: Engine, report: AuditReport, *, progress: Progress | None = None) -> None:
    """Rebuild the projections from the records of ``engine`` and add every difference to ``report``."""
    started = time.perf_counter()
    scratch = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    try:
        for table in PROJECTED_TABLES:
            _scratch_table(table).create(scratch)
        with engine.connect() as source, scratch.begin() as target:
            _replay(source, target, report, progress)
        with engine.connect() as source, scratch.connect() as rebuilt:
            for table in PROJECTED_TABLES:
                report.projection_rows += _compare(table, source, rebuilt, report.discrepancies.append)
    finally:
        scratch.dispose()
    report.projection_seconds = time.perf_counter() - started
    report.projections_audited = True


def _scratch_table(table: sa.Table) -> sa.Table:
    """``table`` without its foreign keys (the scratch database holds no records)."""
    copy = table.to_metadata(sa.MetaData())
    for constraint in list(copy.foreign_key_constraints):
        copy.constraints.discard(constraint)
    for column in copy.columns:
        column.foreign_keys.clear()
    return copy


def _replay(source: Connection, target: Connection, report: AuditReport, progress: Progress | None) -> None:
    records, keys = Record.__table__, ParticipantKey.__table__
    participant_of = dict(source.execute(sa.select(keys.c.address, keys.c.participant_id)).all())
    capture_ids: dict[int, str] = {}
    first_record_of: dict[str, int] = {}  # event hash ID -> the record that stored it
    event_rows: list[dict[str, Any]] = []
    epc_rows: list[dict[str, Any]] = []
    provenance: list[StoredEvent] = []
    replayed = 0

    def flush() -> None:
        if event_rows:
            target.execute(EpcisEvent.__table__.insert(), event_rows)
        if epc_rows:
            target.execute(EpcisEventEpc.__table__.insert(), epc_rows)
        index_provenance(target, provenance)
        event_rows.clear()
        epc_rows.clear()
        provenance.clear()
        if progress:
            progress(replayed)

    query = (sa.select(records.c.index, records.c.kind, records.c.body)
             .where(records.c.kind.in_((EVENT_KIND, CAPTURE_KIND))).order_by(records.c.index))
    for index, kind, body in source.execution_options(stream_results=True, yield_per=REPLAY_BATCH).execute(query):
        try:
            record = json.loads(body)
            if kind == CAPTURE_KIND:
                capture_ids[index] = record["captureID"]
                continue
            hash_id = record["eventHashID"]
            if hash_id in first_record_of:
                report.discrepancies.append(Discrepancy(
                    f"record {index}", f"repeats event {hash_id} of record {first_record_of[hash_id]} (capture stores an event once)"))
                continue
            event = validate_event(record["event"])
            identifiers = event_identifiers(event)
            participant_id = participant_of.get(record["signer"])
            if participant_id is None:
                report.discrepancies.append(Discrepancy(
                    f"record {index}", f"signed by {record['signer']}, a key the participants mirror does not know"))
            row = event_row(hash_id=hash_id, record_index=index,
                            capture_id=capture_ids.get(record["captureRecord"], ""), signer=record["signer"],
                            participant_id=participant_id or "", event=event)
        except (ValueError, KeyError, TypeError, LedgerError) as exc:
            report.discrepancies.append(Discrepancy(f"record {index}", f"cannot be projected ({exc}); its rows are left out of the rebuild"))
            continue
        first_record_of[hash_id] = index
        event_rows.append(row)
        epc_rows.extend(identifier_rows(index, identifiers))
        provenance.append(StoredEvent(index, event, identifiers, participant_id))
        replayed += 1
        if len(provenance) >= REPLAY_BATCH:
            flush()
    flush()


def _ordered(connection: Connection, table: sa.Table) -> Iterator[tuple]:
    """Rows of ``table`` in byte order of their primary key, whatever the database's collation."""
    key = list(table.primary_key.columns)
    collate = connection.dialect.name == "postgresql"
    order = [sa.collate(c, "C") if collate and isinstance(c.type, sa.String) else c for c in key]
    query = sa.select(*key, *[c for c in table.columns if c not in key]).order_by(*order)
    yield from connection.execution_options(stream_results=True, yield_per=REPLAY_BATCH).execute(query)


def _compare(table: sa.Table, source: Connection, rebuilt: Connection, found: Callable[[Discrepancy], None]) -> int:
    """Merge the stored and rebuilt rows of ``table`` by primary key; report each difference. Returns rows read."""
    key_width = len(table.primary_key.columns)
    names = [c.name for c in table.primary_key.columns] + [c.name for c in table.columns if not c.primary_key]
    time_columns = {i for i, c in enumerate(names) if isinstance(table.columns[c].type, sa.DateTime)}
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

    stored_rows, rebuilt_rows = _ordered(source, table), _ordered(rebuilt, table)
    stored, expected = next(stored_rows, None), next(rebuilt_rows, None)
    while stored is not None or expected is not None:
        stored_key = tuple(stored[:key_width]) if stored is not None else None
        expected_key = tuple(expected[:key_width]) if expected is not None else None
        if stored_key == expected_key and tuple(stored) == tuple(expected):  # the common case, decided without conversions
            stored, expected, rows = next(stored_rows, None), next(rebuilt_rows, None), rows + 1
            continue
        if expected_key is None or (stored_key is not None and _before(stored_key, expected_key)):
            report(stored_key, "not in the projection of the log (row inserted, or its key edited)")
            stored, rows = next(stored_rows, None), rows + 1
            continue
        if stored_key is None or _before(expected_key, stored_key):
            report(expected_key, "missing: the log gives this row but the index lacks it (row deleted, or its key edited)")
            expected = next(rebuilt_rows, None)
            continue
        have, want = normal(stored), normal(expected)
        changed = [f"{names[i]} is {have[i]!r}, the log gives {want[i]!r}" for i in range(key_width, len(names)) if have[i] != want[i]]
        if changed:
            report(stored_key, "; ".join(changed) + " (row edited)")
        stored, expected, rows = next(stored_rows, None), next(rebuilt_rows, None), rows + 1
    if unnamed:
        found(Discrepancy(table.name, f"{unnamed} more rows differ from the projection of the log; the first {named} are named above"))
    return rows


def _before(a: tuple, b: tuple) -> bool:
    """Primary-key order as both databases sort it: strings by UTF-8 bytes (SQLite BINARY, PostgreSQL "C")."""
    return tuple(v.encode() if isinstance(v, str) else v for v in a) < tuple(v.encode() if isinstance(v, str) else v for v in b)


def _subject(table: str, key_names: Sequence[str], key: tuple) -> str:
    if len(key) == 1:
        return f"{table} {key[0]}"
    return f"{table} (" + ", ".join(f"{name}={value}" for name, value in zip(key_names, key)) + ")"
