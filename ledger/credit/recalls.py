"""Recalls of a participant's goods: who recalled them, and how far downstream they had gone.

A participant's goods are the keys it commissioned (and the lots of the
packs it commissioned with an ILMD lot number) and the lots it registered on
chain (``LotRegistered``). A recall is either on chain (``Recalled`` in the
ProductStatus mirror, not withdrawn since) or an EPCIS event with
disposition ``recalled`` naming the key. It is *voluntary* when the owner
itself recalled, *imposed* otherwise (the contract lets only a regulator
recall someone else's lot; the capture policy the same for events).

Recalls are few, so the index-wide list of recalled keys and their owners is
read once a second per process and shared by every profile; the reach of
each recall of the profiled participant is its downstream trace
(:func:`ledger.trace.queries.downstream_trace`): the goods made from or
packed with it, and the holders other than the owner that hold them now,
each cited by the event that made it the holder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from ledger.credit.evidence import event_ref, transaction_ref
from ledger.credit.facts import Fact, Findings, Gathering, count_fact, value_fact
from ledger.credit.sql import DAY, chunks, iso, period_text, select_rows
from ledger.errors import NotFoundError
from ledger.trace.queries import downstream_trace
from ledger.trace.sql import remembered

REMEMBER_SECONDS = 1.0
REACH_MAX_NODES = 1_000

_CHAIN_RECALLS = """
SELECT key, participant_id, kind, block_number, block_time, tx_hash, log_index, notice, contract
FROM product_status_event WHERE kind IN ('recalled', 'recall_withdrawn') ORDER BY block_number, log_index
"""
_EVENT_RECALLS = """
SELECT x.epc, e.record_index, e.hash_id, e.participant_id, e.event_time
FROM epcis_event e JOIN epcis_event_epc x ON x.record_index = e.record_index
WHERE e.disposition = 'recalled' ORDER BY e.record_index
"""
_COMMISSIONERS = """
SELECT x.epc, e.participant_id FROM epcis_event_epc x JOIN epcis_event e ON e.record_index = x.record_index
WHERE x.epc IN :keys AND e.biz_step = 'commissioning'
UNION
SELECT t.source, e.participant_id FROM trace_edge t JOIN epcis_event e ON e.record_index = t.start_index
WHERE t.source IN :keys AND t.kind = 'lot' AND e.biz_step = 'commissioning'
UNION
SELECT key, participant_id FROM product_status_event WHERE key IN :keys AND kind = 'lot_registered'
"""


@dataclass
class Recall:
    key: str
    by: str
    at: Any
    source: str  # chain or event
    notice: str | None
    evidence: list[dict[str, Any]]
    owners: set[str] = field(default_factory=set)


def _chain_recalls(conn: Connection) -> list[Recall]:
    active: dict[str, Recall] = {}
    for key, pid, kind, block, block_time, tx, log_index, notice, contract in select_rows(conn, _CHAIN_RECALLS, lists=()):
        if kind == "recall_withdrawn":
            active.pop(key, None)  # a withdrawn recall no longer counts
            continue
        active[key] = Recall(key, pid, block_time, "chain", notice, [transaction_ref(
            tx, block, contract=contract, contract_name="ProductStatus", event="Recalled", log_index=log_index,
            args={"key": key, "participantId": pid})])
    return list(active.values())


def _event_recalls(conn: Connection) -> list[Recall]:
    return [Recall(key, pid, event_time, "event", None,
                   [event_ref(hash_id, index, names=key, disposition="recalled", by=pid)])
            for key, index, hash_id, pid, event_time in select_rows(conn, _EVENT_RECALLS, lists=())]


def recalls_with_owners(conn: Connection) -> list[Recall]:
    """Every recall in force of the index, each with the owners of its key (read at most once a second)."""

    def load() -> list[Recall]:
        recalls = _chain_recalls(conn) + _event_recalls(conn)
        owners: dict[str, set[str]] = {}
        keys = sorted({r.key for r in recalls})
        for some in chunks(keys):
            for key, pid in select_rows(conn, _COMMISSIONERS, lists=("keys",), keys=some):
                owners.setdefault(key, set()).add(pid)
        for recall in recalls:
            recall.owners = owners.get(recall.key, set())
        return recalls

    return remembered(conn, "credit-recalls", REMEMBER_SECONDS, load)


def reach(conn: Connection, key: str, owner: str) -> dict[str, Any]:
    """How far downstream ``key`` went: goods reached, holders other than ``owner``, and the events that prove it."""
    try:
        trace = downstream_trace(conn, key, max_nodes=REACH_MAX_NODES)
    except NotFoundError:
        return {"goods": 0, "holders": [], "truncated": False, "evidence": []}
    events = {event["logIndex"]: event for event in trace["events"]}
    holders: dict[str, dict[str, Any]] = {}
    for node in trace["affected"]:
        state = node.get("state")
        holder = state.get("participantId") if state else None
        if not holder or holder == owner or holder in holders:
            continue
        event = events.get(state["lastLogIndex"])
        holders[holder] = {"participantId": holder, "key": node["key"], "event": event}
    evidence = [event_ref(h["event"]["eventHashID"], h["event"]["logIndex"], by=h["participantId"])
                for h in holders.values() if h["event"] is not None]
    return {"goods": max(len(trace["affected"]) - 1, 0), "holders": sorted(holders), "truncated": trace["truncated"],
            "evidence": evidence}


def gather(conn: Connection, job: Gathering) -> Findings:
    """``recalls.total``, ``recalls.imposed``, ``recalls.voluntary``, ``recalls.max_reach``,
    ``recalls.max_holders`` and the ``recalls`` series."""
    found = Findings()
    wanted = set(job.ids)
    mine: dict[str, list[dict[str, Any]]] = {pid: [] for pid in job.ids}
    for recall in recalls_with_owners(conn):
        for owner in sorted(recall.owners & wanted):
            spread = reach(conn, recall.key, owner)
            mine[owner].append({
                "key": recall.key, "by": recall.by, "imposed": recall.by != owner, "source": recall.source,
                "at": iso(recall.at), "notice": recall.notice,
                "reach": {"goods": spread["goods"], "holders": len(spread["holders"]), "truncated": spread["truncated"]},
                "evidence": recall.evidence + spread["evidence"][: job.limit],
            })
            found.count(owner, "recalls", period_text(recall.at, DAY))
    for pid in job.ids:
        items = mine[pid]
        found.add(pid, count_fact("recalls.total", items, limit=job.limit))
        found.add(pid, count_fact("recalls.imposed", [i for i in items if i["imposed"]], limit=job.limit))
        found.add(pid, count_fact("recalls.voluntary", [i for i in items if not i["imposed"]], limit=job.limit))
        widest = max(items, key=lambda i: i["reach"]["goods"], default=None)
        most_held = max(items, key=lambda i: i["reach"]["holders"], default=None)
        found.add(pid, _extreme("recalls.max_reach", widest, "goods"))
        found.add(pid, _extreme("recalls.max_holders", most_held, "holders"))
    return found


def _extreme(name: str, item: dict[str, Any] | None, measure: str) -> Fact:
    """The largest ``measure`` among the recalls, supported by that recall."""
    if item is None:
        return value_fact(name, 0)
    return value_fact(name, item["reach"][measure], [item])
