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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from ledger.audit.report import AuditReport, Discrepancy, Progress
from ledger.audit.rows import compare_table, snapshot
from ledger.capture.models import EpcisEvent, EpcisEventEpc
from ledger.capture.projection import CAPTURE_KIND, EVENT_KIND, event_identifiers, event_row, identifier_rows
from ledger.epcis.validate import validate_event
from ledger.errors import LedgerError
from ledger.participants.models import ParticipantKey
from ledger.records.models import Record
from ledger.trace.indexing import StoredEvent, index_provenance
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


def audit_projections(engine: Engine, report: AuditReport, *, progress: Progress | None = None) -> None:
    """Rebuild the projections from the records of ``engine`` and add every difference to ``report``."""
    started = time.perf_counter()
    scratch = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    try:
        for table in PROJECTED_TABLES:
            _scratch_table(table).create(scratch)
        with snapshot(engine) as source:
            with scratch.begin() as target:
                _replay(source, target, report, progress)
            with scratch.connect() as rebuilt:
                for table in PROJECTED_TABLES:
                    report.projection_rows += compare_table(table, source, rebuilt, report.discrepancies.append)
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
