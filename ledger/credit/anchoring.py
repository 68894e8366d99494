"""Facts about how a participant's events reached the chain: the share of them
covered by an anchored checkpoint, and how long each waited for it.

An event at log index ``i`` is anchored by the first anchored checkpoint
whose tree size is above ``i``; its delay is that checkpoint's block time
minus the time the event was appended to the log. Both come from the index
(the checkpoint's block time is the chain's); the facts cite the
checkpoints (tree size, root, transaction), which a verifier reads back from
the anchor contract.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from ledger.anchor.models import CheckpointStatus
from ledger.credit.evidence import checkpoint_ref
from ledger.credit.facts import Findings, Gathering, count_fact, value_fact
from ledger.credit.sql import chunks, iso, select_rows
from ledger.trace.indexing import utc

_CHECKPOINTS = """
SELECT tree_size, root_hash, tx_hash, block_number, anchored_at, contract_address FROM checkpoint
WHERE status = :anchored ORDER BY tree_size
"""
_EVENTS = """
SELECT e.participant_id, e.record_index, r.created_at FROM epcis_event e JOIN "record" r ON r."index" = e.record_index
WHERE e.participant_id IN :ids ORDER BY e.participant_id, e.record_index
"""


@dataclass(frozen=True)
class AnchoredCheckpoint:
    tree_size: int
    root: bytes
    tx_hash: str | None
    block: int | None
    anchored_at: datetime | None
    contract: str

    def ref(self) -> dict[str, Any]:
        return checkpoint_ref(self.tree_size, self.root, self.tx_hash, self.block, self.contract)


def anchored_checkpoints(conn: Connection) -> list[AnchoredCheckpoint]:
    rows = select_rows(conn, _CHECKPOINTS, lists=(), anchored=CheckpointStatus.ANCHORED)
    return [AnchoredCheckpoint(size, bytes(root), tx, block, utc(at) if at is not None else None, contract)
            for size, root, tx, block, at, contract in rows]


def covering(checkpoints: list[AnchoredCheckpoint], sizes: list[int], index: int) -> AnchoredCheckpoint | None:
    """The first checkpoint that includes leaf ``index`` (``sizes``: their tree sizes, ascending)."""
    position = bisect.bisect_right(sizes, index)
    return checkpoints[position] if position < len(checkpoints) else None


def gather(conn: Connection, job: Gathering) -> Findings:
    """``anchoring.share``, ``anchoring.unanchored``, ``anchoring.delay_p50_s`` and ``anchoring.delay_max_s``."""
    found = Findings()
    checkpoints = anchored_checkpoints(conn)
    sizes = [cp.tree_size for cp in checkpoints]
    events: dict[str, list[tuple[int, Any]]] = {pid: [] for pid in job.ids}
    for ids in chunks(job.ids):
        for pid, index, created in select_rows(conn, _EVENTS, ids=ids):
            events[pid].append((index, created))
    for pid in job.ids:
        delays: list[tuple[float, int, AnchoredCheckpoint]] = []
        waiting: list[dict[str, Any]] = []
        for index, created in events[pid]:
            cp = covering(checkpoints, sizes, index)
            if cp is None:
                waiting.append({"logIndex": index, "appendedAt": iso(created)})
                continue
            delay = (cp.anchored_at - utc(created)).total_seconds() if cp.anchored_at is not None else 0.0
            delays.append((max(delay, 0.0), index, cp))
        total = len(events[pid])
        share = round(len(delays) / total, 4) if total else 1.0
        latest = checkpoints[-1] if checkpoints else None
        found.add(pid, value_fact("anchoring.share", share, _share_items(delays)))
        for item in waiting:  # not covered: the latest anchored checkpoint ends before it
            item["evidence"] = [latest.ref()] if latest is not None else []
        found.add(pid, count_fact("anchoring.unanchored", waiting, limit=job.limit))
        if delays:
            slowest = max(delays, key=lambda d: (d[0], -d[1]))
            median = round(statistics.median(d[0] for d in delays), 3)
            found.add(pid, value_fact("anchoring.delay_p50_s", median))
            found.add(pid, value_fact("anchoring.delay_max_s", round(slowest[0], 3), [
                {"role": "slowest", "logIndex": slowest[1], "delaySeconds": round(slowest[0], 3),
                 "evidence": [slowest[2].ref()]}]))
        else:
            found.add(pid, value_fact("anchoring.delay_p50_s", None))
            found.add(pid, value_fact("anchoring.delay_max_s", None))
    return found


def _share_items(delays: list[tuple[float, int, AnchoredCheckpoint]]) -> list[dict[str, Any]]:
    """The checkpoints that anchored its first and its latest anchored event."""
    if not delays:
        return []
    first, last = delays[0], delays[-1]
    items = [{"role": "first", "logIndex": first[1], "evidence": [first[2].ref()]}]
    if last[1] != first[1]:
        items.append({"role": "latest", "logIndex": last[1], "evidence": [last[2].ref()]})
    return items
