"""`audit` rebuilds everything from the records and the chain: every direct
edit, deletion, insertion or reordering of index rows is caught and named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from ledger.anchor.service import Anchorer
from ledger.audit import audit_log
from ledger.index.db import open_index
from ledger.records.append import NewRecord, append_records


@pytest.fixture
def anchored(index_url, deployment):
    """50 records anchored in two checkpoints (20 and 50), then 5 unanchored ones."""
    engine = open_index(index_url)
    anchorer = Anchorer(engine=engine, chain=deployment.chain, anchor=deployment.anchor, sender=deployment.admin)
    append_records(engine, [NewRecord("test.note", {"lot": f"L{i}", "qty": i}) for i in range(20)])
    anchorer.anchor_once(force=True)
    append_records(engine, [NewRecord("test.note", {"lot": f"L{i}", "qty": i}) for i in range(20, 50)])
    anchorer.anchor_once(force=True)
    append_records(engine, [NewRecord("test.note", {"lot": f"L{i}", "qty": i}) for i in range(50, 55)])
    yield engine, deployment
    engine.dispose()


def run_audit(engine, deployment):
    return audit_log(engine, deployment.chain, deployment.anchor)


def test_an_untouched_index_audits_clean(anchored) -> None:
    engine, deployment = anchored
    report = run_audit(engine, deployment)
    assert report.ok, [str(d) for d in report.discrepancies]
    assert (report.records, report.checkpoints_on_chain, report.anchored_size) == (55, 2, 50)


def sql(*statements: str) -> Callable:
    def tamper(engine) -> None:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    return tamper


def swap_bodies(a: int, b: int) -> Callable:
    def tamper(engine) -> None:
        with engine.begin() as conn:
            body_a = conn.execute(sa.text(f'SELECT body FROM record WHERE "index" = {a}')).scalar()
            body_b = conn.execute(sa.text(f'SELECT body FROM record WHERE "index" = {b}')).scalar()
            conn.execute(sa.text(f'UPDATE record SET body = :b WHERE "index" = {a}'), {"b": body_b})
            conn.execute(sa.text(f'UPDATE record SET body = :b WHERE "index" = {b}'), {"b": body_a})
    return tamper


TAMPERS = {
    "edit a record": (sql("""UPDATE record SET body = replace(body, 'L7', 'L8') WHERE "index" = 7"""), ["record 7"]),
    "edit an unanchored record": (sql("""UPDATE record SET kind = 'test.other' WHERE "index" = 52"""), ["record 52"]),
    "edit a leaf": (sql("""UPDATE log_leaf SET leaf_hash = (SELECT leaf_hash FROM log_leaf WHERE "index" = 4) WHERE "index" = 3"""), ["record 3"]),
    "delete a record": (sql('DELETE FROM record WHERE "index" = 5'), ["record 5"]),
    "delete a leaf": (sql('DELETE FROM log_leaf WHERE "index" = 9'), ["record 9"]),
    "insert a record": (sql("""INSERT INTO record ("index", kind, body, created_at) VALUES (55, 'test.note', '{"lot":"FAKE"}', '2026-01-01')"""), ["record 55"]),
    "reorder records": (swap_bodies(2, 3), ["record 2", "record 3"]),
    "edit a node": (sql("""UPDATE log_node SET hash = (SELECT hash FROM log_node WHERE level = 1 AND "index" = 1) WHERE level = 1 AND "index" = 0"""), ["node (1, 0)"]),
    "delete a node": (sql('DELETE FROM log_node WHERE level = 2 AND "index" = 3'), ["node (2, 3)"]),
    "edit a checkpoint row": (sql("""UPDATE checkpoint SET root_hash = (SELECT root_hash FROM checkpoint WHERE tree_size = 50) WHERE tree_size = 20"""), ["checkpoint 20"]),
    "truncate the log": (sql('DELETE FROM record WHERE "index" >= 30', 'DELETE FROM log_leaf WHERE "index" >= 30', 'DELETE FROM log_node'), ["checkpoint 50"]),
}


@pytest.mark.parametrize("case", list(TAMPERS))
def test_audit_names_every_tampered_row(anchored, case: str) -> None:
    engine, deployment = anchored
    tamper, subjects = TAMPERS[case]
    tamper(engine)
    report = run_audit(engine, deployment)
    assert not report.ok
    named = {d.subject for d in report.discrepancies}
    for subject in subjects:
        assert subject in named, f"{case}: expected {subject!r} among {sorted(named)}"
