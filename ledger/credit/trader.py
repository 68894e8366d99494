"""Facts of a trader (by USCC): its customs whitelist history, the customs
refusals that name it, and the declarations and clearances recorded for it.

The whitelist history is replayed from the index's mirror of the contract's
events (:func:`ledger.whitelist.history.replay`, the same replay that
``whitelist history`` checks against the contract): every change is cited by
its transaction and the contract event in it. Declarations and clearances are
events of the log naming the trader in ``tl:trader``, found among events with
the convention's bizSteps (``departing``/``shipping`` for declarations, the
customs clearing step for clearances; see :mod:`ledger.crossborder.convention`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from ledger.credit.evidence import event_ref, transaction_ref
from ledger.credit.facts import Findings, Gathering, count_fact, value_fact
from ledger.credit.refusals import trader_refusals
from ledger.credit.sql import DAY, iso, period_text, select_rows
from ledger.crossborder.convention import EXPORT_BIZ_STEPS, TRADER
from ledger.crossborder.standing import StandingReader, status_at
from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING, PROJECT_NAMESPACE
from ledger.whitelist.history import Change
from ledger.whitelist.model import CreditLevel
from ledger.whitelist.model import iso as unix_iso

_NAMING = """
SELECT e.record_index, e.hash_id, e.biz_step, e.participant_id, e.event_time
FROM epcis_event e JOIN "record" r ON r."index" = e.record_index
WHERE e.biz_step IN :steps AND (r.body LIKE :short OR r.body LIKE :full)
ORDER BY e.record_index
"""


def _change_item(change: Change, contract: str | None) -> dict[str, Any]:
    event = change.event
    return {
        "change": change.change,
        "version": event.version,
        "level": change.entry.level.name,
        "reason": event.reason,
        "at": unix_iso(event.block_time) if event.block_time is not None else None,
        "evidence": [transaction_ref(event.tx_hash, event.block_number, contract=contract, contract_name="TraderWhitelist",
                                     event=event.kind, log_index=event.log_index,
                                     args={"uscc": event.uscc, "version": event.version})],
    }


def _worse(after: CreditLevel, before: CreditLevel) -> bool:
    """A level change for the worse (the enum runs AEO, GENERAL, DISHONEST)."""
    return before != CreditLevel.NONE and int(after) > int(before)


def gather(conn: Connection, uscc: str, job: Gathering) -> Findings:
    """Every ``whitelist.*`` and ``customs.*`` fact of trader ``uscc`` and its series."""
    found = Findings()
    contract = job.contracts.get("TraderWhitelist")
    reader = StandingReader(conn, contract)
    changes = reader.changes(uscc)
    kinds: dict[str, list[dict]] = {"revoked": [], "suspended": [], "downgrade": [], "dishonest": [], "repair": []}
    previous = CreditLevel.NONE
    for change in changes:
        item = _change_item(change, contract)
        level = change.entry.level
        if change.change == "revoked":
            kinds["revoked"].append(item)
        elif change.change == "suspended":
            kinds["suspended"].append(item)
        elif change.change == "credit_repaired":
            kinds["repair"].append(item)
        if level != previous:
            if _worse(level, previous):
                kinds["downgrade"].append(item)
            if level == CreditLevel.DISHONEST:
                kinds["dishonest"].append(item)
        previous = level
        if change.event.block_time is not None:
            found.count(uscc, "whitelist", unix_iso(change.event.block_time)[:10])
    last = changes[-1] if changes else None
    status = status_at(last.entry if last else None, int(job.now))
    current = [_change_item(last, contract)] if last else []
    found.add(uscc, value_fact("whitelist.listed", status in ("active", "suspended", "not_yet_valid"), current))
    found.add(uscc, value_fact("whitelist.level", last.entry.level.name if last else "NONE", current))
    found.add(uscc, value_fact("whitelist.status", status, current))
    for name, key in (("whitelist.revocations", "revoked"), ("whitelist.suspensions", "suspended"),
                      ("whitelist.downgrades", "downgrade"), ("whitelist.dishonest_spells", "dishonest"),
                      ("whitelist.repairs", "repair")):
        found.add(uscc, count_fact(name, kinds[key], limit=job.limit))
    found.merge(trader_refusals(conn, uscc, job))
    _movements(conn, uscc, job, found)
    return found


def _movements(conn: Connection, uscc: str, job: Gathering, found: Findings) -> None:
    declarations, clearances = [], []
    rows = select_rows(conn, _NAMING, lists=("steps",), steps=[*EXPORT_BIZ_STEPS, BIZ_STEP_CUSTOMS_CLEARING],
                       short=f'%"{TRADER}":"{uscc}"%', full=f'%"{PROJECT_NAMESPACE}trader":"{uscc}"%')
    for index, hash_id, biz_step, pid, event_time in rows:
        item = {"logIndex": index, "at": iso(event_time), "participantId": pid,
                "evidence": [event_ref(hash_id, index, bizStep=biz_step, trader=uscc, by=pid)]}
        clearance = biz_step == BIZ_STEP_CUSTOMS_CLEARING
        (clearances if clearance else declarations).append(item)
        found.count(uscc, "clearances" if clearance else "declarations", period_text(event_time, DAY))
    found.add(uscc, count_fact("customs.declarations", declarations, limit=job.limit))
    found.add(uscc, count_fact("customs.clearances", clearances, limit=job.limit))
