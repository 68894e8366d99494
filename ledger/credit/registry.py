"""Facts from the participant registry's history (the index's mirror of its
events): how often the participant was suspended, and whether it is active
now. Each change is cited by its transaction and the registry event in it."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ledger.credit.evidence import transaction_ref
from ledger.credit.facts import Findings, Gathering, count_fact, value_fact
from ledger.credit.sql import chunks, iso, select_rows
from ledger.participants.models import ParticipantStatus, RegistryEventKind

_CHANGES = """
SELECT participant_id, kind, block_number, block_time, tx_hash, log_index FROM registry_event
WHERE participant_id IN :ids AND kind IN :kinds ORDER BY participant_id, block_number, log_index
"""
_STATUS = "SELECT id, status FROM participant WHERE id IN :ids"
_KINDS = (RegistryEventKind.PARTICIPANT_REGISTERED, RegistryEventKind.PARTICIPANT_SUSPENDED,
          RegistryEventKind.PARTICIPANT_REACTIVATED)


def gather(conn: Connection, job: Gathering) -> Findings:
    """``registry.suspensions`` and ``registry.active``."""
    found = Findings()
    registry = job.contracts.get("ParticipantRegistry")
    for ids in chunks(job.ids):
        changes: dict[str, list[dict]] = {pid: [] for pid in ids}
        for pid, kind, block, block_time, tx, log_index in select_rows(
                conn, _CHANGES, lists=("ids", "kinds"), ids=ids, kinds=[str(k) for k in _KINDS]):
            changes[pid].append({"change": kind, "block": block, "at": iso(block_time), "evidence": [transaction_ref(
                tx, block, contract=registry, contract_name="ParticipantRegistry", event=kind, log_index=log_index,
                args={"participantId": pid})]})
        status = dict(select_rows(conn, _STATUS, ids=ids))
        for pid in ids:
            suspensions = [c for c in changes[pid] if c["change"] == RegistryEventKind.PARTICIPANT_SUSPENDED]
            found.add(pid, count_fact("registry.suspensions", suspensions, limit=job.limit))
            # The change that set the current status: the last of them (registration if none since).
            last = changes[pid][-1:] if changes[pid] else []
            found.add(pid, value_fact("registry.active", status.get(pid) == ParticipantStatus.ACTIVE, last))
    return found
