"""``traceledger audit``: prove from scratch that the index was not rewritten.

- :mod:`ledger.audit.log`: records, leaves, nodes and checkpoints against
  the chain;
- :mod:`ledger.audit.projections`: the query and traceability tables
  against a replay of the log;
- :mod:`ledger.audit.mirrors`: the mirrors of the contracts (participants,
  whitelist, product status) against the chain's events.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Engine

from ledger.audit.log import audit_log
from ledger.audit.mirrors import audit_mirrors
from ledger.audit.projections import audit_projections
from ledger.audit.report import AuditReport, Discrepancy, Progress

__all__ = ["AuditReport", "Discrepancy", "audit_index", "audit_log", "audit_mirrors", "audit_projections"]


def audit_index(
    ledger: Any,
    *,
    engine: Engine | None = None,
    projections: bool = True,
    mirrors: bool = True,
    log_progress: Progress | None = None,
    projection_progress: Progress | None = None,
) -> AuditReport:
    """The whole audit of ``ledger``'s index (or of the index at ``engine``, judged against ``ledger``'s chain).

    The log against the chain; then, unless turned off, the tables derived
    from the log against a replay of it, and the contract mirrors against a
    rebuild from the chain's events.
    """
    engine = engine if engine is not None else ledger.engine
    if engine is None:
        raise ValueError("audit needs an index: open the ledger with with_index=True, or pass engine")
    report = audit_log(engine, ledger.chain, ledger.contract("CheckpointAnchor"), progress=log_progress)
    if projections:
        audit_projections(engine, report, progress=projection_progress)
    if mirrors:
        audit_mirrors(dataclasses.replace(ledger, engine=engine, _contracts={}), report)
    return report
