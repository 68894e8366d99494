"""Facts from the events a participant signed: how much it recorded, which lots
and packs it registered (commissioned), and its events per day.

Registered goods are the identifiers named by its ``commissioning`` events:
lots (``/01/<gtin>/10/<lot>``) and serialized items (``/01/<gtin>/21/<serial>``),
plus the lot of each item commissioned with its ILMD ``lotNumber`` (the
``lot`` edge that event opened in the provenance graph), plus lots it
registered on chain (``LotRegistered`` in the ProductStatus mirror, when the
index has one). Each is cited by the first event (or transaction) that
registered it.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ledger.credit.evidence import event_ref, transaction_ref
from ledger.credit.facts import Findings, Gathering, count_fact
from ledger.credit.sql import DAY, chunks, period_of, select_rows

_COMMISSIONED = """
SELECT e.participant_id, x.epc, MIN(e.record_index)
FROM epcis_event e JOIN epcis_event_epc x ON x.record_index = e.record_index
WHERE e.participant_id IN :ids AND e.biz_step = 'commissioning'
GROUP BY e.participant_id, x.epc
"""
_LOTS_OF_PACKS = """
SELECT e.participant_id, t.source, e.record_index, t.target
FROM epcis_event e JOIN epcis_event_epc x ON x.record_index = e.record_index
JOIN trace_edge t ON t.target = x.epc AND t.kind = 'lot' AND t.start_index = e.record_index
WHERE e.participant_id IN :ids AND e.biz_step = 'commissioning'
"""
"""Lots known from the ILMD ``lotNumber`` of the packs a participant commissioned (the lot edges those events opened)."""

_CHAIN_ONLY = """
SELECT p.participant_id, p.key, p.tx_hash, p.block_number, p.log_index, p.contract FROM product_status_event p
WHERE p.participant_id IN :ids AND p.kind = 'lot_registered'
  AND NOT EXISTS (SELECT 1 FROM epcis_event_epc x JOIN epcis_event e ON e.record_index = x.record_index
                  WHERE x.epc = p.key AND e.participant_id = p.participant_id AND e.biz_step = 'commissioning')
  AND NOT EXISTS (SELECT 1 FROM trace_edge t JOIN epcis_event e ON e.record_index = t.start_index
                  WHERE t.source = p.key AND t.kind = 'lot' AND e.participant_id = p.participant_id
                    AND e.biz_step = 'commissioning')
ORDER BY p.participant_id, p.block_number, p.log_index
"""
"""Keys registered on chain (``LotRegistered``) that no commissioning event of the same participant registered."""

_EVENTS = """
SELECT participant_id, COUNT(*), MIN(record_index), MAX(record_index) FROM epcis_event
WHERE participant_id IN :ids GROUP BY participant_id
"""

_ENDS = "SELECT record_index, hash_id FROM epcis_event WHERE record_index IN :indices"


def _kind(key: str) -> str | None:
    """``item`` (``/01/<gtin>/21/<serial>``), ``lot`` (``/01/<gtin>/10/<lot>``), or None for other keys."""
    parts = key.split("/")
    if len(parts) > 4 and parts[1] == "01":
        return {"21": "item", "10": "lot"}.get(parts[3])
    return None


def gather(conn: Connection, job: Gathering) -> Findings:
    """``activity.events``, ``registered.lots``, ``registered.packs`` and the ``events`` series."""
    found = Findings()
    for ids in chunks(job.ids):
        _events(conn, ids, job, found)
        _goods(conn, ids, job, found)
        day = period_of(conn, "event_time", DAY)
        for pid, period, n in select_rows(
                conn, f"SELECT participant_id, {day}, COUNT(*) FROM epcis_event WHERE participant_id IN :ids "
                      f"GROUP BY participant_id, {day}", ids=ids):
            found.count(pid, "events", period, n)
    return found


def _events(conn: Connection, ids: list[str], job: Gathering, found: Findings) -> None:
    spans = {pid: (n, first, last) for pid, n, first, last in select_rows(conn, _EVENTS, ids=ids)}
    ends = sorted({i for _, first, last in spans.values() for i in (first, last)})
    hashes: dict[int, str] = {}
    for indices in chunks(ends):
        hashes.update(select_rows(conn, _ENDS, lists=("indices",), indices=indices))
    for pid in ids:
        n, first, last = spans.get(pid, (0, None, None))
        items = []
        for role, index in (("first", first), ("latest", last)):
            if index is not None and (role == "first" or last != first):
                items.append({"role": role, "evidence": [event_ref(hashes[index], index, by=pid)]})
        found.add(pid, count_fact("activity.events", items, n, limit=job.limit))


def _goods(conn: Connection, ids: list[str], job: Gathering, found: Findings) -> None:
    # good -> (first commissioning event, the identifier it names for the good), per participant and kind
    first: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
    for pid, key, index in select_rows(conn, _COMMISSIONED, ids=ids):
        kind = _kind(key)
        if kind is not None:
            first.setdefault((pid, kind), {})[key] = (index, key)
    for pid, lot_key, index, pack in select_rows(conn, _LOTS_OF_PACKS, ids=ids):
        lots = first.setdefault((pid, "lot"), {})
        if (index, pack) < lots.get(lot_key, (index + 1, "")):
            lots[lot_key] = (index, pack)
    listed: dict[tuple[str, str], list[tuple[int, str, str]]] = {
        group: sorted((index, key, named) for key, (index, named) in goods.items())[: job.limit]
        for group, goods in first.items()}
    cited = sorted({index for goods in listed.values() for index, _, _ in goods})
    hashes: dict[int, str] = {}
    for indices in chunks(cited):
        hashes.update(select_rows(conn, _ENDS, lists=("indices",), indices=indices))
    items = {group: [{"key": key, "evidence": [event_ref(hashes[index], index, names=named, bizStep="commissioning",
                                                         by=group[0])]} for index, key, named in goods]
             for group, goods in listed.items()}
    totals = {group: len(goods) for group, goods in first.items()}
    for pid, key, tx, block, log_index, contract in select_rows(conn, _CHAIN_ONLY, ids=ids):
        group = (pid, _kind(key) or "lot")
        totals[group] = totals.get(group, 0) + 1
        items.setdefault(group, []).append({"key": key, "evidence": [transaction_ref(
            tx, block, contract=contract, contract_name="ProductStatus", event="LotRegistered", log_index=log_index,
            args={"key": key, "participantId": pid})]})
    for pid in ids:
        for kind, name in (("lot", "registered.lots"), ("item", "registered.packs")):
            found.add(pid, count_fact(name, items.get((pid, kind), []), totals.get((pid, kind), 0), limit=job.limit))


