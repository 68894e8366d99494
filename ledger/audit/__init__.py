"""``traceledger audit``: prove from scratch that the index was not rewritten.

- :mod:`ledger.audit.log`: records, leaves, nodes and checkpoints against
  the chain;
- :mod:`ledger.audit.projections`: the query and traceability tables
  against a replay of the log.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from web3.contract import Contract

from ledger.audit.log import audit_log
from ledger.audit.projections import audit_projections
from ledger.audit.report import AuditReport, Discrepancy, Progress
from ledger.chain.base import Chain

__all__ = ["AuditReport", "Discrepancy", "audit_index", "audit_log", "audit_projections"]


def audit_index(
    engine: Engine,
    chain: Chain,
    anchor: Contract,
    *,
    projections: bool = True,
    log_progress: Progress | None = None,
    projection_progress: Progress | None = None,
) -> AuditReport:
    """The whole audit: the log against the chain, then (unless ``projections`` is false) the projected tables against the log."""
    report = audit_log(engine, chain, anchor, progress=log_progress)
    if projections:
        audit_projections(engine, report, progress=projection_progress)
    return report
