"""What a trace shows of recalls and pack status, from the index mirror.

The mirror may lag the chain by a sync interval (about a second under
``serve``); the answer says up to which block it has read, and a scanner
that must not trust the server reads the contract itself
(:func:`ledger.status.service.read_statuses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from ledger.trace.queries import iso, participant_names
from ledger.trace.sql import STATUS_COLUMNS, fetch, fetch_in

def _named(participant_id: str | None, names: Mapping[str, Any]) -> str | None:
    entry = names.get(participant_id) if participant_id else None
    return entry["name"] if entry else None


def statuses(conn: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The mirrored status of ``keys`` (keys with no status are absent), one query per 500 keys."""
    return {row[0]: dict(zip(STATUS_COLUMNS, row)) for row in fetch_in(conn, "product_statuses", keys)} if keys else {}


def _mirrored_to(conn: Connection, contract: str) -> int | None:
    """The block the mirror has read up to, in the same snapshot as the statuses (a scanner compares them there)."""
    rows = fetch(conn, "contract_cursor", [contract])
    return rows[0][0] if rows else None


def trace_status(conn: Connection, trace: Mapping[str, Any], *, contract: str) -> dict[str, Any]:
    """Recalls in force on any key of an upstream ``trace``, and the decommissioning of its root.

    A recall of an input lot shows on everything made from it: the upstream
    trace of a product reaches its inputs, so their recalls are listed with
    ``relation: "input"``.
    """
    relations = {node["key"]: node["relation"] for node in trace.get("nodes", ())}
    relations.setdefault(trace["key"], "self")
    rows = statuses(conn, list(relations))
    ids = [pid for row in rows.values() for pid in (row["recalled_by"], row["decommissioned_by"])]
    names = participant_names(conn, ids) if ids else {}
    recalls = [
        {
            "key": key, "relation": relations[key], "notice": row["recall_notice"],
            "reasonHash": row["recall_reason_hash"], "recalledAt": iso(row["recalled_at"]),
            "recalledBy": row["recalled_by"], "recalledByName": _named(row["recalled_by"], names),
            "txHash": row["recall_tx"], "blockNumber": row["recall_block"],
        }
        for key, row in rows.items() if row["recalled"]
    ]
    recalls.sort(key=lambda recall: (recall["relation"] != "self", recall["key"]))
    root = rows.get(trace["key"])
    pack = None
    if root is not None and root["pack_status"]:
        pack = {
            "key": root["key"], "status": root["pack_status"], "at": iso(root["decommissioned_at"]),
            "by": root["decommissioned_by"], "byName": _named(root["decommissioned_by"], names),
            "txHash": root["decommission_tx"], "blockNumber": root["decommission_block"],
        }
    return {"contract": contract, "mirroredToBlock": _mirrored_to(conn, contract), "recalls": recalls, "pack": pack}
