"""Inclusion proofs for every event of a trace, against the latest anchored checkpoint.

With a trace's events, each with its log record, a client checks the
trace without trusting the server: it hashes each record into its leaf,
walks the proof to the checkpoint root, and reads that root from the anchor
contract (``ledger.bundle.verify_bundle`` does the same for one record).
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from ledger.bundle import checkpoint_json
from ledger.log.proof import inclusion_plan, merge_subtree_roots
from ledger.log.sqlstore import SqlNodeStore
from ledger.records.encoding import record_leaf_hash
from ledger.trace.sql import CHECKPOINT_COLUMNS, fetch, remembered

__all__ = ["attach_proofs", "latest_anchored_checkpoint"]


CHECKPOINT_LAG = 0.5
"""Seconds a trace may use the previous checkpoint after a newer one is anchored (read once per this period)."""


def latest_anchored_checkpoint(session: Session | Connection, *, max_age: float = 0.0) -> Any | None:
    """The newest anchored checkpoint (attributes as on ``Checkpoint``), or None.

    ``max_age``: accept an answer read that many seconds ago (anchoring runs
    every few seconds; every trace asks).
    """
    connection = session.connection() if isinstance(session, Session) else session

    def load() -> Any | None:
        rows = fetch(connection, "latest_checkpoint", [])
        if not rows:
            return None
        values = dict(zip(CHECKPOINT_COLUMNS, rows[0]))
        values["root_hash"] = bytes(values["root_hash"])
        if isinstance(values["anchored_at"], str):  # SQLite stores text
            values["anchored_at"] = datetime.fromisoformat(values["anchored_at"])
        return SimpleNamespace(**values)

    return remembered(connection, "checkpoint", max_age, load) if max_age > 0 else load()


SHARED_LEVEL = 6
"""Nodes from this level up (each over 64+ leaves) are few and shared by most proofs."""
_MAX_SHARED_NODES = 200_000
_shared_nodes: dict[tuple[str, int, int], tuple[bytes, str]] = {}


def _node_hashes(connection: Connection, ids: list[tuple[int, int]]) -> tuple[dict, dict]:
    """Hashes of tree nodes ``ids``, and their hex, with ONE query for those not cached.

    A perfect-subtree node never changes once written (an append-only log),
    so the upper ones, which nearly every proof repeats, are kept in memory,
    per database; the lower ones, specific to each event, are read.
    """
    database = str(connection.engine.url)
    hashes: dict[tuple[int, int], bytes] = {}
    shown: dict[tuple[int, int], str] = {}
    missing = []
    for node in ids:
        cached = _shared_nodes.get((database, *node)) if node[0] >= SHARED_LEVEL else None
        if cached is None:
            missing.append(node)
        else:
            hashes[node], shown[node] = cached
    if missing:
        if len(_shared_nodes) > _MAX_SHARED_NODES:
            _shared_nodes.clear()
        for node, node_hash in zip(missing, SqlNodeStore(connection).get_nodes(missing)):
            hashes[node], shown[node] = node_hash, "0x" + node_hash.hex()
            if node[0] >= SHARED_LEVEL:
                _shared_nodes[(database, *node)] = (node_hash, shown[node])
    return hashes, shown


def attach_proofs(session: Session | Connection, trace: dict[str, Any]) -> dict[str, Any]:
    """Give each event of ``trace`` its leaf hash and inclusion proof against the latest anchored checkpoint.

    Adds ``checkpoint`` (as ``/v1/checkpoints/latest`` shows it, or None) to
    the trace, and to each event ``anchored``, ``treeSize`` and
    ``inclusionProof`` (hex, RFC 9162 order), or ``anchored: false`` and no
    proof for an event the checkpoint does not cover yet. The checkpoint may
    be up to ``CHECKPOINT_LAG`` seconds behind the newest. Every proof's
    nodes are read with ONE query. Events carrying their ``record`` also get
    ``leafHash``.
    """
    connection = session.connection() if isinstance(session, Session) else session
    checkpoint = latest_anchored_checkpoint(connection, max_age=CHECKPOINT_LAG)
    size = checkpoint.tree_size if checkpoint is not None else 0
    plans = {event["logIndex"]: inclusion_plan(event["logIndex"], size) for event in trace["events"] if event["logIndex"] < size}
    wanted = list(dict.fromkeys(node for plan in plans.values() for node in plan.node_ids))
    hashes, shown = _node_hashes(connection, wanted)
    merged: dict[tuple, str] = {}  # the right border's incomplete subtrees, shared by many proofs
    for event in trace["events"]:
        record = event.get("record")
        if record is not None:
            event["leafHash"] = "0x" + record_leaf_hash(record["kind"], record["body"]).hex()
        plan = plans.get(event["logIndex"])
        if plan is None:
            event["anchored"] = False
            event["inclusionProof"] = None
            continue
        event["anchored"] = True
        event["treeSize"] = size
        ids, start, end = plan.node_ids, plan.ephemeral_start, plan.ephemeral_end
        if end - start < 2:
            event["inclusionProof"] = [shown[node] for node in ids]
            continue
        border = tuple(ids[start:end])
        if border not in merged:
            merged[border] = "0x" + merge_subtree_roots([hashes[node] for node in border]).hex()
        event["inclusionProof"] = [*(shown[n] for n in ids[:start]), merged[border], *(shown[n] for n in ids[end:])]
    trace["checkpoint"] = checkpoint_json(checkpoint) if checkpoint is not None else None
    return trace
