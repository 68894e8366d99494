"""A trader's credential: what the check page shows and the QR code points to.

:func:`trader_card` reads the entry from the whitelist contract at the latest
block, at request time (the latest block first, then ``getEntry`` at that block
number, as :meth:`ledger.whitelist.service.Whitelist.entry_at_latest` does,
so the entry and the block named belong together; the display name comes from
:func:`ledger.whitelist.queries.trader_name`), and judges its status now. It never
answers from the mirror: a page someone checks at a border must say what the
chain says at that moment, and where (block number, hash, time, contract).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ledger.crossborder.standing import status_at
from ledger.whitelist.errors import TraderNotFoundError
from ledger.whitelist.model import iso, scope_names
from ledger.whitelist.queries import trader_name
from ledger.whitelist.service import BlockRef, Whitelist
from ledger.whitelist.uscc import ALPHABET, LENGTH, check_character, validate_uscc


class UnlistedTraderError(TraderNotFoundError):
    """The trader was never listed, as of ``block`` (404)."""

    def __init__(self, uscc: str, block: BlockRef) -> None:
        self.block = block
        super().__init__(uscc, block.number)


@dataclass(frozen=True)
class TraderCard:
    """The page's content: entry, status now, and where it was read."""

    uscc: str
    name: str | None
    level: str
    scopes: list[str]
    valid_from: str
    valid_until: str
    status: str  # active, suspended, revoked, expired, not_yet_valid
    status_reason: str | None
    version: int
    checked_at: str
    block_number: int
    block_hash: str
    block_time: str
    contract: str
    chain_id: int

    def to_json(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "name": self.name, "level": self.level, "scopes": self.scopes,
                "validFrom": self.valid_from, "validUntil": self.valid_until, "status": self.status,
                "statusReason": self.status_reason, "version": self.version, "checkedAt": self.checked_at,
                "blockNumber": self.block_number, "blockHash": self.block_hash, "blockTime": self.block_time,
                "contract": self.contract, "chainId": self.chain_id}


def trader_card(ledger: Any, uscc: str, now: int | None = None) -> TraderCard:
    """The trader's card, read from chain state now. Raises UsccError (400),
    TraderNotFoundError (404) or ChainError (503)."""
    code = validate_uscc(uscc)
    whitelist = Whitelist.from_ledger(ledger)
    block = whitelist.latest_block()
    entry = whitelist.entry(code, block.number)  # at the block named, so entry and block belong together
    if not entry.listed:
        raise UnlistedTraderError(code, block)
    moment = int(time.time()) if now is None else now
    return TraderCard(
        uscc=entry.uscc, name=trader_name(ledger.engine, entry.uscc), level=entry.level.name,
        scopes=scope_names(entry.scopes), valid_from=iso(entry.valid_from), valid_until=iso(entry.valid_until),
        status=status_at(entry, moment), status_reason=entry.status_reason or None, version=entry.version,
        checked_at=iso(moment), block_number=block.number, block_hash=block.hash, block_time=iso(block.timestamp),
        contract=whitelist.address, chain_id=whitelist.chain.chain_id,
    )


@dataclass(frozen=True)
class UsccProblem:
    """What is wrong with a USCC, in parts a page can word in any language."""

    kind: str  # length, character, division_digit, check
    length: int | None = None
    position: int | None = None
    character: str | None = None
    expected: str | None = None


def uscc_problem(text: str) -> UsccProblem | None:
    """The first problem of ``text`` as a USCC (the rules of :func:`validate_uscc`), or None."""
    given = text.strip()
    code = given.upper()
    if len(code) != LENGTH:
        return UsccProblem("length", length=len(code))
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            return UsccProblem("character", position=position, character=given[position - 1])
        if 3 <= position <= 8 and not char.isdigit():
            return UsccProblem("division_digit", position=position, character=char)
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccProblem("check", position=18, character=code[17], expected=expected)
    return None
