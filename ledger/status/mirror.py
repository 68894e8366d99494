"""The index's mirror of the ProductStatus contract (see :mod:`ledger.chain.mirror`).

Besides the events, it keeps ``product_status``, the status per key, by
folding each touched key's events again in the sync's transaction, so that a
reorg that removes an event also undoes what it did.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from eth_utils import event_abi_to_log_topic
from sqlalchemy.engine import Connection

from ledger.chain.mirror import EventMirror, block_times, fetch_logs, log_position
from ledger.status.models import ProductStatusEvent, ProductStatusRow
from ledger.status.subjects import CONTRACT_NAME, PackStatus

MIRROR_LOCK = 7377202  # pg advisory lock id: "one status-mirror writer at a time"
_events = ProductStatusEvent.__table__
_status = ProductStatusRow.__table__
_KINDS = {
    "LotRegistered": "lot_registered",
    "Recalled": "recalled",
    "RecallWithdrawn": "recall_withdrawn",
    "Decommissioned": "decommissioned",
}


@cache
def _topics(abi_json: str) -> dict[bytes, str]:
    return {bytes(event_abi_to_log_topic(item)): item["name"]
            for item in json.loads(abi_json) if item.get("type") == "event" and item["name"] in _KINDS}


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


class StatusMirror(EventMirror):
    """The mirror of one ProductStatus contract."""

    contract_name = CONTRACT_NAME
    table = _events
    lock_id = MIRROR_LOCK

    def rows(self, from_block: int, to_block: int) -> list[dict[str, Any]]:
        topics = _topics(json.dumps(self.contract.abi, sort_keys=True))
        logs = fetch_logs(self.chain, self.contract, from_block, to_block, [["0x" + t.hex() for t in topics]])
        times = block_times(self.chain, (log["blockNumber"] for log in logs))
        rows = []
        for log in logs:
            name = topics.get(bytes(log["topics"][0])) if log["topics"] else None
            if name is None:
                continue
            args = self.contract.events[name]().process_log(log)["args"]
            rows.append({
                **log_position(log),
                "block_time": datetime.fromtimestamp(times[log["blockNumber"]], UTC),
                "kind": _KINDS[name], "key": args["key"], "subject": _hex(args["subject"]),
                "participant_id": _hex(args["participantId"]), "notice": args.get("notice"),
                "reason_hash": _hex(args["reasonHash"]) if "reasonHash" in args else None,
                "pack_status": PackStatus(args["status"]).label if "status" in args else None,
            })
        return rows

    def project(self, conn: Connection, inserted: list[dict[str, Any]], removed: list[sa.Row]) -> None:
        keys = {row["key"] for row in inserted} | {row.key for row in removed}
        refold(conn, keys)


def refold(conn: Connection, keys: Iterable[str]) -> None:
    """Recompute ``product_status`` for ``keys`` from their mirrored events."""
    keys = sorted(set(keys))
    if not keys:
        return
    conn.execute(sa.delete(_status).where(_status.c.key.in_(keys)))
    events = conn.execute(
        sa.select(_events).where(_events.c.key.in_(keys))
        .order_by(_events.c.key, _events.c.block_number, _events.c.log_index)).all()
    states: dict[str, dict[str, Any]] = {}
    for event in events:
        state = states.get(event.key)
        if state is None:  # every row names every column: one multi-row insert
            state = states[event.key] = dict.fromkeys(_status.c.keys())
            state.update(key=event.key, subject=event.subject, recalled=False)
        if event.kind == "lot_registered":
            state["owner_participant_id"] = event.participant_id
        elif event.kind == "recalled":
            state.update(recalled=True, recall_notice=event.notice, recall_reason_hash=event.reason_hash,
                         recalled_at=event.block_time, recalled_by=event.participant_id, recall_tx=event.tx_hash,
                         recall_block=event.block_number)
        elif event.kind == "recall_withdrawn":
            state.update(recalled=False, recall_notice=event.notice, recall_tx=event.tx_hash,
                         recall_block=event.block_number)
        else:
            state.update(pack_status=event.pack_status, decommissioned_at=event.block_time,
                         decommissioned_by=event.participant_id, decommission_tx=event.tx_hash,
                         decommission_block=event.block_number)
    if states:
        conn.execute(sa.insert(_status), list(states.values()))


def status_mirror(ledger: Any) -> StatusMirror:
    return StatusMirror(ledger.engine, ledger.chain, ledger.contract(CONTRACT_NAME),
                        start_block=ledger.manifest.deployed_block)


def follow_status(stop_event: threading.Event, ledger: Any, interval: float = 1.0) -> None:
    """Keep the mirror current until ``stop_event`` is set (a background thread of ``serve``)."""
    status_mirror(ledger).follow(stop_event, interval)
