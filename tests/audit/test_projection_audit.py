"""`audit` re-derives the query and trace tables from the log: an edit of a
table the consumer page or a recall reads from is caught and named, even
though every record and leaf is intact. Runs on SQLite and PostgreSQL, over
the trace scenario (tests/trace/scenario.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.audit import AuditReport, audit_projections
from ledger.audit.projections import PROJECTED_TABLES
from ledger.capture.models import EpcisEvent, EpcisEventEpc
from ledger.epcis.build import gtin, lot, transformation_event
from ledger.index.db import SQLITE_IMMEDIATE
from ledger.trace.models import TraceEdge, TraceState, TraceTransformationPart
from tests.trace.conftest import database_url, node  # noqa: F401 (fixtures)
from tests.trace.scenario import CASE, DRUG_LOT, PACKS, SAUCE_LOT, TOMATO_LOT, Node, key_of, node_capture

events, epcs = EpcisEvent.__table__, EpcisEventEpc.__table__
states, edges, parts = TraceState.__table__, TraceEdge.__table__, TraceTransformationPart.__table__

Edit = Callable[[Connection, Node], tuple[str, str]]
"""Changes the index in the connection's transaction; returns the subject and problem audit must name."""


@pytest.fixture(scope="module", autouse=True)
def transformation_over_two_events(node) -> None:  # noqa: F811
    """A transformation recorded over two events under one transformationID (the scenario has none)."""
    plant = node.gln("plant")
    juice, apples, pears = gtin("0952100000041"), gtin("0952100000058"), gtin("0952100000065")
    tid = "urn:uuid:1f0e7c7a-5b43-4d3e-9a51-3c1d2e4f5a6b"
    node_capture(node, "plant", [
        transformation_event(inputs=[(lot(apples, "AU-1"), 10, "KGM")], outputs=[(lot(juice, "JU-1"), 5, "LTR")],
                             location=plant, when=node.when(), transformationID=tid),
        transformation_event(inputs=[(lot(pears, "AU-2"), 10, "KGM")], outputs=[(lot(juice, "JU-1"), 4, "LTR")],
                             location=plant, when=node.when(), transformationID=tid),
    ])


def audit(engine: Engine) -> AuditReport:
    report = AuditReport()
    audit_projections(engine, report)
    return report


def immediate(engine: Engine) -> Connection:
    """A connection whose SQLite transactions take the write lock up front: the served node's
    background threads write too, and a read-then-write transaction would fail on their commits."""
    return engine.connect().execution_options(**{SQLITE_IMMEDIATE: True})


@contextmanager
def tampered(engine: Engine, edit: Callable[[Connection], tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Apply ``edit`` (which returns the subject and problem audit must name); put every projected table back afterwards."""
    with engine.connect() as conn:
        saved = {table: [row._asdict() for row in conn.execute(sa.select(table))] for table in PROJECTED_TABLES}
    try:
        with immediate(engine) as conn, conn.begin():
            expected = edit(conn)
        yield expected
    finally:
        with immediate(engine) as conn, conn.begin():
            for table in reversed(PROJECTED_TABLES):  # identifier rows reference their event
                conn.execute(sa.delete(table))
            for table in PROJECTED_TABLES:
                if saved[table]:
                    conn.execute(sa.insert(table), saved[table])


def test_the_projections_of_an_untouched_index_match_the_log(node) -> None:  # noqa: F811
    report = audit(node.ledger.engine)
    assert report.ok, [str(d) for d in report.discrepancies]
    with node.ledger.engine.connect() as conn:
        stored = sum(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() for table in PROJECTED_TABLES)
    assert report.projections_audited and report.projection_rows == stored > 50


def move_a_pack(conn: Connection, _scenario: Node) -> tuple[str, str]:
    pack = key_of(PACKS[0])
    conn.execute(sa.update(states).where(states.c.epc == pack).values(location="https://id.gs1.org/414/9521000000999"))
    return f"trace_state {pack}", "location is 'https://id.gs1.org/414/9521000000999', the log gives"


def cut_a_lot_from_its_product(conn: Connection, _scenario: Node) -> tuple[str, str]:
    source, target = key_of(TOMATO_LOT), key_of(SAUCE_LOT)
    start = conn.execute(sa.select(edges.c.start_index).where(
        edges.c.source == source, edges.c.target == target, edges.c.kind == "transformation")).scalar_one()
    conn.execute(sa.delete(edges).where(edges.c.source == source, edges.c.target == target))
    return (f"trace_edge (source={source}, kind=transformation, target={target}, start_index={start})",
            "missing: the log gives this row but the index lacks it")


def forge_an_input(conn: Connection, _scenario: Node) -> tuple[str, str]:
    source, target = key_of(DRUG_LOT), key_of(SAUCE_LOT)
    conn.execute(sa.insert(edges).values(source=source, kind="transformation", target=target, start_index=0,
                                         start_time=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)))
    return (f"trace_edge (source={source}, kind=transformation, target={target}, start_index=0)",
            "the log gives no such row")


def put_a_pack_back_in_its_case(conn: Connection, _scenario: Node) -> tuple[str, str]:
    case, pack = key_of(CASE), key_of(PACKS[0])
    start = conn.execute(sa.select(edges.c.start_index).where(
        edges.c.source == case, edges.c.target == pack, edges.c.end_index.is_not(None))).scalar_one()
    conn.execute(sa.update(edges).where(edges.c.source == case, edges.c.target == pack).values(end_index=None, end_time=None))
    return (f"trace_edge (source={case}, kind=aggregation, target={pack}, start_index={start})",
            "end_index is None, the log gives")


def relabel_an_event(conn: Connection, scenario: Node) -> tuple[str, str]:
    index = scenario.indices["pallet shipped"]
    hash_id = conn.execute(sa.select(events.c.hash_id).where(events.c.record_index == index)).scalar_one()
    conn.execute(sa.update(events).where(events.c.record_index == index).values(biz_step="destroying"))
    return f"epcis_event {hash_id}", "biz_step is 'destroying', the log gives"


def hide_an_event_from_queries(conn: Connection, scenario: Node) -> tuple[str, str]:
    index = scenario.indices["packs commissioned"]
    pack = key_of(PACKS[1])
    role = conn.execute(sa.select(epcs.c.role).where(epcs.c.record_index == index, epcs.c.epc == pack)).scalar_one()
    conn.execute(sa.delete(epcs).where(epcs.c.record_index == index, epcs.c.epc == pack))
    return f"epcis_event_epc (record_index={index}, epc={pack}, role={role})", "missing"


def shift_a_transformation_part(conn: Connection, _scenario: Node) -> tuple[str, str]:
    transformation, role, epc = conn.execute(
        sa.select(parts.c.transformation, parts.c.role, parts.c.epc).order_by(parts.c.transformation, parts.c.role, parts.c.epc).limit(1)
    ).one()
    conn.execute(sa.update(parts).where(parts.c.transformation == transformation, parts.c.role == role, parts.c.epc == epc)
                 .values(record_index=parts.c.record_index + 1000))
    return f"trace_transformation_part (transformation={transformation}, role={role}, epc={epc})", "record_index is"


EDITS: dict[str, Edit] = {
    "a pack's current location": move_a_pack,
    "a lot cut from the product made of it (a recall would stop there)": cut_a_lot_from_its_product,
    "a forged input of a product": forge_an_input,
    "an unpacked pack put back in its case": put_a_pack_back_in_its_case,
    "an event's bizStep in the query index": relabel_an_event,
    "an event hidden from identifier queries": hide_an_event_from_queries,
    "a transformation part's event": shift_a_transformation_part,
}


@pytest.mark.parametrize("case", list(EDITS))
def test_audit_names_an_edited_projection_row(node, case: str) -> None:  # noqa: F811
    with tampered(node.ledger.engine, lambda conn: EDITS[case](conn, node)) as (subject, problem):
        report = audit(node.ledger.engine)
    named = {d.subject: d.problem for d in report.discrepancies}
    assert subject in named, f"expected {subject}, audit named {sorted(named)}"
    assert problem in named[subject], named[subject]
    assert len(report.discrepancies) <= 3, [str(d) for d in report.discrepancies]  # the edit, not noise
    assert audit(node.ledger.engine).ok, "the table put back audits clean again"


def test_a_mass_edit_names_the_first_rows_and_counts_the_rest(node, monkeypatch) -> None:  # noqa: F811
    named = 3
    monkeypatch.setattr("ledger.audit.rows.NAMED_PER_TABLE", named)

    def everyone_moved(conn: Connection) -> tuple[str, str]:
        changed = conn.execute(sa.update(states).values(participant_id="0x" + "ee" * 32)).rowcount
        assert changed > named
        return "trace_state", f"{changed - named} more rows differ from what the log gives; the first {named} are named above"

    with tampered(node.ledger.engine, everyone_moved) as (subject, problem):
        report = audit(node.ledger.engine)
    per_row = [d for d in report.discrepancies if d.subject.startswith("trace_state /")]
    assert len(per_row) == named
    assert [d.problem for d in report.discrepancies if d.subject == subject] == [problem]
