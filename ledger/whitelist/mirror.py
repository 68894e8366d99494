"""The index's mirror of the whitelist's events (see :mod:`ledger.chain.mirror`).

Rows of ``whitelist_event`` are unique by contract, block hash and log
index; the cursor lives in ``contract_cursor``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ledger.chain.mirror import EventMirror, SyncReport, block_times
from ledger.whitelist.history import WhitelistEvent, decode_logs, fetch_logs
from ledger.whitelist.model import CreditLevel, EntryStatus
from ledger.whitelist.models import WhitelistEventRow
from ledger.whitelist.service import CONTRACT_NAME

__all__ = ["SyncReport", "WhitelistMirror"]

MIRROR_LOCK = 7377201  # pg advisory lock id: "one whitelist-mirror writer at a time"
_events = WhitelistEventRow.__table__


def _hex_or_none(value: bytes | None) -> str | None:
    return "0x" + value.hex() if value is not None else None


def _row(e: WhitelistEvent) -> dict[str, Any]:
    return {
        "block_number": e.block_number, "block_hash": e.block_hash,
        "block_time": datetime.fromtimestamp(e.block_time, UTC) if e.block_time is not None else None,
        "tx_hash": e.tx_hash, "log_index": e.log_index, "kind": e.kind, "uscc": e.uscc, "version": e.version,
        "officer": e.officer,
        "level": int(e.level) if e.level is not None else None,
        "previous_level": int(e.previous_level) if e.previous_level is not None else None,
        "status": int(e.status) if e.status is not None else None,
        "scopes": str(e.scopes) if e.scopes is not None else None,
        "valid_from": str(e.valid_from) if e.valid_from is not None else None,
        "valid_until": str(e.valid_until) if e.valid_until is not None else None,
        "dossier_hash": _hex_or_none(e.dossier_hash), "reason": e.reason,
    }


def _event(row: sa.Row) -> WhitelistEvent:
    def opt_int(value: str | None) -> int | None:
        return int(value) if value is not None else None

    return WhitelistEvent(
        kind=row.kind, uscc=row.uscc, version=row.version, officer=row.officer, block_number=row.block_number,
        block_hash=row.block_hash, tx_hash=row.tx_hash, log_index=row.log_index,
        block_time=int(row.block_time.replace(tzinfo=row.block_time.tzinfo or UTC).timestamp()) if row.block_time else None,
        level=CreditLevel(row.level) if row.level is not None else None,
        previous_level=CreditLevel(row.previous_level) if row.previous_level is not None else None,
        status=EntryStatus(row.status) if row.status is not None else None,
        scopes=opt_int(row.scopes), valid_from=opt_int(row.valid_from), valid_until=opt_int(row.valid_until),
        dossier_hash=bytes.fromhex(row.dossier_hash[2:]) if row.dossier_hash else None, reason=row.reason,
    )


class WhitelistMirror(EventMirror):
    """The mirror of one TraderWhitelist contract, read from ``start_block`` on."""

    contract_name = CONTRACT_NAME
    table = _events
    lock_id = MIRROR_LOCK

    def rows(self, from_block: int, to_block: int) -> list[dict[str, Any]]:
        logs = fetch_logs(self.chain, self.contract, from_block, to_block)
        times = block_times(self.chain, (log["blockNumber"] for log in logs))
        return [_row(e) for e in decode_logs(self.contract, logs, times)]

    def events(self, uscc: str | None = None) -> list[WhitelistEvent]:
        """Stored events (of one trader, or all), in chain order. Call :meth:`sync` first."""
        query = sa.select(_events).where(_events.c.contract == self.contract.address)
        if uscc is not None:
            query = query.where(_events.c.uscc == uscc)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_events.c.block_number, _events.c.log_index)).all()
        return [_event(row) for row in rows]
