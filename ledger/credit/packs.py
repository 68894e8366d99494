"""Pack facts: packs that show up again after they left the supply chain, and
packs whose on-chain status contradicts what the events say.

*Rescanned after dispensing* (attributed to the participant who recorded the
later event): an event naming a pack (``/01/<gtin>/21/<serial>``) recorded
after the pack's dispensing, that is after (event time, then log index) an
event with disposition ``dispensed`` naming it, or after its on-chain
decommissioning (``Decommissioned`` in the ProductStatus mirror: dispensed,
stolen or destroyed; block time). An event that records the very
decommissioning (same participant, disposition equal to the on-chain status)
is the same act told twice, not a rescan. One occurrence per (event, pack).

*Status contradictions* (attributed to the participant whose event left the
pack's current state, among packs its events name): the chain says the pack
was decommissioned but its current disposition is another (e.g. still
``in_progress``), or the events say it left the chain of custody
(``dispensed``, ``stolen``, ``destroyed``) while the chain holds no
decommissioning for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from ledger.credit.evidence import event_ref, transaction_ref
from ledger.credit.facts import Findings, Gathering, count_fact
from ledger.credit.sql import DAY, chunks, iso, period_text, select_rows
from ledger.status.subjects import PackStatus

GONE = tuple(status.label for status in PackStatus if status is not PackStatus.NONE)

_AFTER_DISPENSING = """
SELECT l.participant_id, lx.epc, l.record_index, l.hash_id, l.event_time, d.record_index, d.hash_id, d.participant_id
FROM epcis_event l
JOIN epcis_event_epc lx ON lx.record_index = l.record_index
JOIN epcis_event_epc dx ON dx.epc = lx.epc AND dx.record_index <> l.record_index
JOIN epcis_event d ON d.record_index = dx.record_index
WHERE l.participant_id IN :ids AND lx.epc LIKE '/01/%/21/%' AND d.disposition = 'dispensed'
  AND (d.event_time < l.event_time OR (d.event_time = l.event_time AND d.record_index < l.record_index))
ORDER BY l.record_index, lx.epc, d.event_time, d.record_index
"""
_AFTER_DECOMMISSION = """
SELECT l.participant_id, lx.epc, l.record_index, l.hash_id, l.event_time, l.disposition,
       s.pack_status, s.participant_id, s.block_time, s.tx_hash, s.block_number, s.log_index, s.contract
FROM epcis_event l
JOIN epcis_event_epc lx ON lx.record_index = l.record_index
JOIN product_status_event s ON s.key = lx.epc AND s.kind = 'decommissioned'
WHERE l.participant_id IN :ids AND lx.epc LIKE '/01/%/21/%' AND l.event_time > s.block_time
ORDER BY l.record_index, lx.epc
"""
_CONTRADICTIONS = """
SELECT DISTINCT st.participant_id, st.epc, st.disposition, st.via, st.last_index, le.hash_id, le.disposition,
       ps.pack_status, ps.decommissioned_by, ps.decommission_tx, ps.decommission_block, pe.log_index, pe.contract
FROM epcis_event e
JOIN epcis_event_epc x ON x.record_index = e.record_index
JOIN trace_state st ON st.epc = x.epc AND st.participant_id = e.participant_id
JOIN epcis_event le ON le.record_index = st.last_index
LEFT JOIN product_status ps ON ps.key = st.epc
LEFT JOIN product_status_event pe ON pe.key = st.epc AND pe.kind = 'decommissioned' AND pe.tx_hash = ps.decommission_tx
WHERE e.participant_id IN :ids AND x.epc LIKE '/01/%/21/%'
  AND ((ps.pack_status IS NOT NULL AND (st.disposition IS NULL OR st.disposition <> ps.pack_status))
    OR (ps.pack_status IS NULL AND st.disposition IN :gone))
ORDER BY st.participant_id, st.epc
"""


def _decommission_ref(key: str, tx: str, block: int, log_index: int, contract: str, by: str, status: str) -> dict:
    return transaction_ref(tx, block, contract=contract, contract_name="ProductStatus", event="Decommissioned",
                           log_index=log_index, args={"key": key, "participantId": by, "status": status})


def gather(conn: Connection, job: Gathering) -> Findings:
    """``packs.rescanned_after_dispensing``, ``packs.status_contradictions`` and the ``rescans`` series."""
    found = Findings()
    for ids in chunks(job.ids):
        rescans: dict[str, dict[tuple[int, str], dict[str, Any]]] = {pid: {} for pid in ids}
        for pid, pack, index, hash_id, when, d_index, d_hash, d_by in select_rows(conn, _AFTER_DISPENSING, ids=ids):
            rescans[pid].setdefault((index, pack), {
                "pack": pack, "logIndex": index, "at": iso(when), "after": "dispensed event",
                "evidence": [event_ref(hash_id, index, names=pack, by=pid),
                             event_ref(d_hash, d_index, names=pack, disposition="dispensed", by=d_by)],
            })
        for (pid, pack, index, hash_id, when, disposition, status, by, gone_at, tx, block, log_index,
             contract) in select_rows(conn, _AFTER_DECOMMISSION, ids=ids):
            if by == pid and disposition == status:
                continue  # the decommissioning itself, also recorded as an event
            rescans[pid].setdefault((index, pack), {
                "pack": pack, "logIndex": index, "at": iso(when), "after": f"decommissioned on chain ({status})",
                "decommissionedAt": iso(gone_at),
                "evidence": [event_ref(hash_id, index, names=pack, by=pid),
                             _decommission_ref(pack, tx, block, log_index, contract, by, status)],
            })
        contradictions: dict[str, list[dict[str, Any]]] = {pid: [] for pid in ids}
        for (pid, pack, disposition, via, last_index, last_hash, last_disposition, status, by, tx, block, log_index,
             contract) in select_rows(conn, _CONTRADICTIONS, lists=("ids", "gone"), ids=ids, gone=list(GONE)):
            claims: dict[str, str | None] = {"by": pid}
            if via is None:
                claims["names"] = pack
            if last_disposition is not None and last_disposition == disposition:
                claims["disposition"] = disposition
            evidence = [event_ref(last_hash, last_index, **claims)]
            if status is not None and tx is not None and log_index is not None:
                evidence.append(_decommission_ref(pack, tx, block, log_index, contract, by, status))
            contradictions[pid].append({"pack": pack, "events": disposition, "chain": status or "in supply chain",
                                        "evidence": evidence})
        for pid in ids:
            items = sorted(rescans[pid].values(), key=lambda item: (item["logIndex"], item["pack"]))
            for item in items:
                found.count(pid, "rescans", period_text(item["at"], DAY))
            found.add(pid, count_fact("packs.rescanned_after_dispensing", items, limit=job.limit))
            found.add(pid, count_fact("packs.status_contradictions", contradictions[pid], limit=job.limit))
    return found
