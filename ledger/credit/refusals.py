"""Facts from refused captures: by the role policy, or for trader claims the
customs whitelist did not back (the customs refusals of
:func:`ledger.crossborder.check.claim_refusal`).

A refused capture stores nothing in the log (nothing was accepted), so these
facts cite the refusal as the index keeps it (``refusal`` evidence): the
capture id, when, and the reason given to the submitter.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from ledger.capture.models import CaptureState
from ledger.credit.evidence import refusal_ref
from ledger.credit.facts import Findings, Gathering, count_fact, value_fact
from ledger.credit.sql import DAY, chunks, iso, period_text, select_rows

_CUSTOMS_REASON = re.compile(r"^event \d+: (trader .+ may not claim |tl:clearedBy )")
"""The two refusals the cross-border check gives (see ledger.crossborder.check); every other one is the role policy's."""

_REFUSED = """
SELECT participant_id, id, reason, created_at FROM capture
WHERE participant_id IN :ids AND state = :refused ORDER BY participant_id, created_at, id
"""
_STATES = "SELECT participant_id, state, COUNT(*) FROM capture WHERE participant_id IN :ids GROUP BY participant_id, state"
_NAMING_TRADER = """
SELECT id, reason, created_at FROM capture WHERE state = :refused AND reason LIKE :pattern ORDER BY created_at, id
"""


def is_customs_refusal(reason: str | None) -> bool:
    return bool(reason) and _CUSTOMS_REASON.match(reason) is not None


def _item(capture_id: str, at: object, reason: str | None) -> dict:
    return {"captureID": capture_id, "at": iso(at), "evidence": [refusal_ref(capture_id, iso(at), reason)]}


def gather(conn: Connection, job: Gathering) -> Findings:
    """``captures.refused_policy``, ``captures.refused_customs``, ``captures.refusal_share`` and the ``refusals`` series."""
    found = Findings()
    for ids in chunks(job.ids):
        refused: dict[str, dict[str, list[dict]]] = {pid: {"policy": [], "customs": []} for pid in ids}
        for pid, capture_id, reason, created in select_rows(conn, _REFUSED, ids=ids, refused=CaptureState.REFUSED):
            refused[pid]["customs" if is_customs_refusal(reason) else "policy"].append(_item(capture_id, created, reason))
            found.count(pid, "refusals", period_text(created, DAY))
        counts: dict[str, int] = {}
        for pid, _state, n in select_rows(conn, _STATES, ids=ids):
            counts[pid] = counts.get(pid, 0) + n
        for pid in ids:
            policy, customs = refused[pid]["policy"], refused[pid]["customs"]
            found.add(pid, count_fact("captures.refused_policy", policy, limit=job.limit))
            found.add(pid, count_fact("captures.refused_customs", customs, limit=job.limit))
            total = counts.get(pid, 0)
            share = round((len(policy) + len(customs)) / total, 4) if total else 0.0
            found.add(pid, value_fact("captures.refusal_share", share))
    return found


def trader_refusals(conn: Connection, uscc: str, job: Gathering) -> Findings:
    """``customs.refusals`` of a trader: refused captures whose reason names it, and the ``refusals`` series."""
    found = Findings()
    items = []
    for capture_id, reason, created in select_rows(conn, _NAMING_TRADER, lists=(), refused=CaptureState.REFUSED,
                                                   pattern=f"%trader {uscc}%"):
        if is_customs_refusal(reason):
            items.append(_item(capture_id, created, reason))
            found.count(uscc, "refusals", period_text(created, DAY))
    found.add(uscc, count_fact("customs.refusals", items, limit=job.limit))
    return found
