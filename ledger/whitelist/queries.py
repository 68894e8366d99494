"""What the API and the CLI answer about one trader: the entry, the check, the history.

The entry and the check are contract views read at one named block. The
history comes from the contract's events (through the index mirror, synced to
the head first, or straight from the node with ``source="chain"``), replayed
into the entry after each change; the replayed entry is compared with the
contract's own ``getEntry`` at the same block, and the answer says whether
they agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.whitelist.errors import TraderNotFoundError, WhitelistInputError
from ledger.whitelist.history import read_events, replay
from ledger.whitelist.mirror import WhitelistMirror
from ledger.whitelist.models import WhitelistTrader
from ledger.whitelist.service import BlockRef, Whitelist
from ledger.whitelist.uscc import validate_uscc

SOURCES = ("index", "chain")
_traders = WhitelistTrader.__table__


def trader_name(engine: Engine | None, uscc: str) -> str | None:
    if engine is None:
        return None
    with engine.connect() as conn:
        return conn.execute(sa.select(_traders.c.name).where(_traders.c.uscc == uscc)).scalar()


def save_name(engine: Engine, uscc: str, name: str) -> None:
    from datetime import UTC, datetime

    with engine.begin() as conn:
        updated = conn.execute(sa.update(_traders).where(_traders.c.uscc == uscc).values(name=name, updated_at=datetime.now(UTC)))
        if updated.rowcount == 0:
            conn.execute(sa.insert(_traders).values(uscc=uscc, name=name, updated_at=datetime.now(UTC)))


def trader_json(whitelist: Whitelist, engine: Engine | None, uscc: str) -> dict[str, Any]:
    entry, block = whitelist.entry_at_latest(uscc)
    return {**entry.to_json(), "name": trader_name(engine, entry.uscc), **block.to_json(), **_where(whitelist)}


def check_json(whitelist: Whitelist, uscc: str, required_scopes: int, at: int | None) -> dict[str, Any]:
    return {**whitelist.check(uscc, required_scopes, at).to_json(), **_where(whitelist)}


def trader_history(whitelist: Whitelist, engine: Engine | None, uscc: str, *, source: str = "index",
                   start_block: int = 0) -> dict[str, Any]:
    code = validate_uscc(uscc)
    if source not in SOURCES:
        raise WhitelistInputError("source", f"must be one of {', '.join(SOURCES)}, got {source!r}")
    if source == "index" and engine is not None:
        mirror = WhitelistMirror(engine, whitelist.chain, whitelist.contract, start_block=start_block)
        report = mirror.sync()
        events = mirror.events(code)
        block_number = report.to_block
    else:
        source = "chain"
        block_number = whitelist.latest_block().number
        events = read_events(whitelist.chain, whitelist.contract, from_block=start_block, to_block=block_number, uscc=code)
    block = whitelist.chain._guard(lambda: whitelist.chain.w3.eth.get_block(block_number))
    ref = BlockRef(block["number"], "0x" + bytes(block["hash"]).hex(), block["timestamp"])
    changes = replay(events)
    on_chain = whitelist.entry(code, ref.number)
    if not changes and not on_chain.listed:
        raise TraderNotFoundError(code, ref.number)
    rebuilt = changes[-1].entry if changes else None
    return {
        "uscc": code,
        "name": trader_name(engine, code),
        "source": source,
        **ref.to_json(),
        **_where(whitelist),
        "changes": [c.to_json() for c in changes],
        "entry": rebuilt.to_json() if rebuilt else None,
        "matchesChain": rebuilt == on_chain,
    }


def _where(whitelist: Whitelist) -> dict[str, Any]:
    return {"chainId": whitelist.chain.chain_id, "contract": whitelist.address}
