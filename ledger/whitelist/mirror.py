"""The index's mirror of the whitelist's events: a speed-up, never the authority.

:meth:`WhitelistMirror.sync` reads the contract's events from the block after
the cursor to the chain's head and stores them with the new cursor in one
transaction (a crash loses nothing; a re-run stores nothing twice: rows are
unique by contract, block hash and log index). Several processes may sync
against one index: a PostgreSQL advisory lock (SQLite: the write lock)
serialises them.

Reorgs: the cursor keeps its block's hash. If the chain's block at that
height has another hash, the mirror walks back over the blocks its stored
events came from to the newest one still on the chain, deletes the events
above it and reads again from there. Dropping both tables and syncing again
rebuilds the mirror from the chain alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from web3.contract import Contract
from web3.exceptions import BlockNotFound

from ledger.chain.base import Chain
from ledger.index.db import SQLITE_IMMEDIATE
from ledger.whitelist.history import WhitelistEvent, block_times, decode_logs, fetch_logs
from ledger.whitelist.model import CreditLevel, EntryStatus
from ledger.whitelist.models import WhitelistCursor, WhitelistEventRow

MIRROR_LOCK = 7377201  # pg advisory lock id: "one whitelist-mirror writer at a time"
_events = WhitelistEventRow.__table__
_cursor = WhitelistCursor.__table__


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    events: int
    rewound_to: int | None = None


def _hex_or_none(value: bytes | None) -> str | None:
    return "0x" + value.hex() if value is not None else None


def _row(contract: str, e: WhitelistEvent) -> dict:
    return {
        "contract": contract, "block_number": e.block_number, "block_hash": e.block_hash,
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


class WhitelistMirror:
    """The mirror of one TraderWhitelist contract, read from ``start_block`` on."""

    def __init__(self, engine: Engine, chain: Chain, contract: Contract, *, start_block: int = 0) -> None:
        self.engine = engine
        self.chain = chain
        self.contract = contract
        self.start_block = start_block

    def _begin(self) -> Connection:
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(**{SQLITE_IMMEDIATE: True})
        return conn

    def sync(self) -> SyncReport:
        """Bring the mirror to the chain's head; returns what was read."""
        address = self.contract.address
        with self._begin() as conn, conn.begin():
            if self.engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIRROR_LOCK})
            head = self.chain._guard(lambda: self.chain.w3.eth.get_block("latest"))
            cursor = conn.execute(sa.select(_cursor.c.block_number, _cursor.c.block_hash)
                                  .where(_cursor.c.contract == address)).first()
            rewound_to = None
            next_block = self.start_block
            if cursor is not None:
                if cursor.block_number <= head["number"] and self._hash_at(cursor.block_number) == cursor.block_hash:
                    next_block = cursor.block_number + 1
                else:
                    rewound_to = self._rewind(conn, address)
                    next_block = rewound_to + 1 if rewound_to is not None else self.start_block
            logs = fetch_logs(self.chain, self.contract, next_block, head["number"]) if next_block <= head["number"] else []
            events = decode_logs(self.contract, logs, block_times(self.chain, (log["blockNumber"] for log in logs)))
            if events:
                conn.execute(sa.insert(_events), [_row(address, e) for e in events])
            values = {"block_number": head["number"], "block_hash": "0x" + bytes(head["hash"]).hex(),
                      "updated_at": datetime.now(UTC)}
            if cursor is None:
                conn.execute(sa.insert(_cursor).values(contract=address, **values))
            else:
                conn.execute(sa.update(_cursor).where(_cursor.c.contract == address).values(**values))
        return SyncReport(next_block, head["number"], len(events), rewound_to)

    def _hash_at(self, number: int) -> str | None:
        try:
            block = self.chain._guard(lambda: self.chain.w3.eth.get_block(number))
        except BlockNotFound:  # gone after a reorg to a shorter chain
            return None
        return "0x" + bytes(block["hash"]).hex()

    def _rewind(self, conn: Connection, address: str) -> int | None:
        """Delete events from blocks no longer on the chain; the newest block kept (None: keep nothing)."""
        blocks = conn.execute(
            sa.select(_events.c.block_number, _events.c.block_hash).where(_events.c.contract == address)
            .group_by(_events.c.block_number, _events.c.block_hash).order_by(_events.c.block_number.desc())).all()
        keep = None
        for number, block_hash in blocks:
            if self._hash_at(number) == block_hash:
                keep = number
                break
        condition = _events.c.contract == address
        if keep is not None:
            condition = condition & (_events.c.block_number > keep)
        conn.execute(sa.delete(_events).where(condition))
        return keep

    def events(self, uscc: str | None = None) -> list[WhitelistEvent]:
        """Stored events (of one trader, or all), in chain order. Call :meth:`sync` first."""
        query = sa.select(_events).where(_events.c.contract == self.contract.address)
        if uscc is not None:
            query = query.where(_events.c.uscc == uscc)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_events.c.block_number, _events.c.log_index)).all()
        return [_event(row) for row in rows]
