"""A trader's standing at a moment, rebuilt from the index's mirror of the whitelist events.

The whitelist contract keeps only the current entry; what it said at an
event's time is the entry after the last change mined at or before that
time. :func:`entry_at` replays the trader's events from the mirror
(``whitelist_event``, kept by :class:`ledger.whitelist.mirror.WhitelistMirror`)
and stops at the first change whose block time is after the moment; the
entry it reached is then judged at the moment with the contract's own rules
(:func:`verdict_at`, the order of ``TraderWhitelist._verdict``).

Why the mirror and not the chain: capture must keep working while the chain
node is unreachable (events are signed and logged off chain; only anchoring
needs the node), and a past moment needs the history, which only the events
hold. The mirror is the chain's events copied with their block hashes and
rebuilt after a reorg, so it answers "what did the chain say at block N" for
every N up to its cursor; the answers name that cursor (``mirrorBlock``) so a
reader can see how current the copy was. Keep the mirror current with
:func:`ledger.crossborder.sync.sync_whitelist_mirror` (the standing, page and
history routes call it) or the background loop
:func:`ledger.crossborder.sync.follow_whitelist`.

Time granularity: block times are whole seconds; a change mined in a block
with time ``T`` holds from ``T`` on, and an event time is taken to the second
below (``12:00:00.900Z`` is judged at ``12:00:00``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ledger.crossborder.convention import STANDING, read_claim
from ledger.epcis.errors import InvalidEventError
from ledger.whitelist.history import Change, WhitelistEvent, replay
from ledger.whitelist.mirror import _event as _mirror_event  # the row -> event decoding the mirror itself uses
from ledger.whitelist.model import (
    VERDICT_STATUS,
    CreditLevel,
    Entry,
    EntryStatus,
    Verdict,
    iso,
    parse_time,
    scope_names,
)
from ledger.chain.mirror import ContractCursor
from ledger.whitelist.service import CONTRACT_NAME as WHITELIST_CONTRACT
from ledger.whitelist.models import WhitelistEventRow, WhitelistTrader
from ledger.whitelist.uscc import validate_uscc

_events = WhitelistEventRow.__table__
_cursor = ContractCursor.__table__
_traders = WhitelistTrader.__table__

SOURCE = "index mirror of the whitelist contract's events"

STATUSES = ("active", "suspended", "revoked", "expired", "not_yet_valid", "unknown")
"""A trader's status at a moment (the level, DISHONEST included, is reported separately)."""


def _conn(session: Session | Connection) -> Connection:
    return session.connection() if isinstance(session, Session) else session


@dataclass(frozen=True)
class MirrorState:
    """Which contract the mirror copies and how far it has read."""

    contract: str | None
    block_number: int | None
    block_hash: str | None
    updated_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"contract": self.contract, "mirrorBlock": self.block_number, "mirrorBlockHash": self.block_hash,
                "mirrorSyncedAt": self.updated_at.isoformat() if self.updated_at else None}


def mirror_state(session: Session | Connection, contract: str | None = None) -> MirrorState:
    """The mirror's cursor for ``contract`` (default: the whitelist contract synced most recently)."""
    query = sa.select(_cursor.c.contract, _cursor.c.block_number, _cursor.c.block_hash, _cursor.c.updated_at)
    if contract is not None:
        query = query.where(_cursor.c.contract == contract)
    else:
        query = query.where(_cursor.c.name == WHITELIST_CONTRACT)
    row = _conn(session).execute(query.order_by(_cursor.c.updated_at.desc()).limit(1)).first()
    if row is None:
        return MirrorState(contract, None, None, None)
    return MirrorState(row.contract, row.block_number, row.block_hash, row.updated_at)


def trader_events(session: Session | Connection, uscc: str, contract: str) -> list[WhitelistEvent]:
    rows = _conn(session).execute(
        sa.select(_events).where(_events.c.contract == contract, _events.c.uscc == uscc)
        .order_by(_events.c.block_number, _events.c.log_index)).all()
    return [_mirror_event(row) for row in rows]


def trader_display_name(session: Session | Connection, uscc: str) -> str | None:
    return _conn(session).execute(sa.select(_traders.c.name).where(_traders.c.uscc == uscc)).scalar()


@dataclass(frozen=True)
class EntryAt:
    """The entry in force at ``at`` (None: not yet listed), the change that made it, and the next change."""

    uscc: str
    at: int
    entry: Entry | None
    change: Change | None
    next_change: Change | None
    mirror: MirrorState

    @property
    def status(self) -> str:
        return status_at(self.entry, self.at)


def entry_at(changes: Sequence[Change], uscc: str, at: int, mirror: MirrorState) -> EntryAt:
    """The entry after the last of ``changes`` whose block time is at or before ``at``."""
    current: Change | None = None
    following: Change | None = None
    for change in changes:
        time = change.event.block_time
        if time is not None and time > at:
            following = change
            break
        current = change
    return EntryAt(uscc, at, current.entry if current else None, current, following, mirror)


def status_at(entry: Entry | None, at: int) -> str:
    """active, suspended, revoked, expired, not_yet_valid or unknown."""
    if entry is None or entry.status == EntryStatus.NONE:
        return "unknown"
    if entry.status == EntryStatus.REVOKED:
        return "revoked"
    if entry.status == EntryStatus.SUSPENDED:
        return "suspended"
    if at < entry.valid_from:
        return "not_yet_valid"
    if at >= entry.valid_until:
        return "expired"
    return "active"


def verdict_at(entry: Entry | None, required_scopes: int, at: int) -> Verdict:
    """The contract's ``_verdict`` (same order of checks), for an entry as it stood at ``at``."""
    if entry is None or entry.status == EntryStatus.NONE:
        return Verdict.UNKNOWN
    if entry.status == EntryStatus.REVOKED:
        return Verdict.REVOKED
    if entry.status == EntryStatus.SUSPENDED:
        return Verdict.SUSPENDED
    if entry.level == CreditLevel.DISHONEST:
        return Verdict.DISHONEST
    if at < entry.valid_from:
        return Verdict.NOT_YET_VALID
    if at >= entry.valid_until:
        return Verdict.EXPIRED
    if entry.scopes & required_scopes != required_scopes:
        return Verdict.SCOPE_NOT_HELD
    return Verdict.ALLOWED


class StandingReader:
    """Reads standings from one session, loading each trader's history once."""

    def __init__(self, session: Session | Connection, contract: str | None = None) -> None:
        self.conn = _conn(session)
        self.mirror = mirror_state(self.conn, contract)
        self._changes: dict[str, list[Change]] = {}
        self._names: dict[str, str | None] = {}

    def changes(self, uscc: str) -> list[Change]:
        if uscc not in self._changes:
            events = trader_events(self.conn, uscc, self.mirror.contract) if self.mirror.contract else []
            self._changes[uscc] = replay(events)
        return self._changes[uscc]

    def name(self, uscc: str) -> str | None:
        if uscc not in self._names:
            self._names[uscc] = trader_display_name(self.conn, uscc)
        return self._names[uscc]

    def at(self, uscc: str, at: int) -> EntryAt:
        return entry_at(self.changes(uscc), uscc, at, self.mirror)

    def latest(self, uscc: str, now: int) -> EntryAt:
        """The last entry the mirror holds (every change applied, whatever its block time), judged at ``now``."""
        changes = self.changes(uscc)
        last = changes[-1] if changes else None
        return EntryAt(uscc, now, last.entry if last else None, last, None, self.mirror)

    def standing(self, uscc: str, at: int) -> dict[str, Any]:
        return standing_json(self.at(uscc, at), self.name(uscc))


def standing_json(found: EntryAt, name: str | None = None) -> dict[str, Any]:
    """The JSON form of a standing (``tl:traderStanding``, ``GET /v1/traders/{uscc}/standing``)."""
    entry, change = found.entry, found.change
    body: dict[str, Any] = {
        "uscc": found.uscc,
        "name": name,
        "at": iso(found.at),
        "status": found.status,
        "level": entry.level.name if entry is not None else None,
        "scopes": scope_names(entry.scopes) if entry is not None else [],
        "validFrom": iso(entry.valid_from) if entry is not None else None,
        "validUntil": iso(entry.valid_until) if entry is not None else None,
        "version": entry.version if entry is not None else 0,
        "statusReason": (entry.status_reason or None) if entry is not None else None,
        "since": None,
        "source": SOURCE,
        **found.mirror.to_json(),
    }
    if change is not None:
        event = change.event
        body["since"] = {"change": change.change, "blockNumber": event.block_number, "blockHash": event.block_hash,
                         "blockTime": iso(event.block_time) if event.block_time is not None else None,
                         "transactionHash": event.tx_hash}
    if found.next_change is not None and found.entry is None:
        event = found.next_change.event
        body["firstListed"] = {"blockNumber": event.block_number,
                               "blockTime": iso(event.block_time) if event.block_time is not None else None}
    return body


def _moment(at: float | str | datetime) -> int:
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return int(at // 1)
    return parse_time(at, field="at")


def trader_standing(session: Session | Connection, uscc: str, at: float | str | datetime | None, *,
                    contract: str | None = None) -> dict[str, Any]:
    """A trader's level, scopes and status at ``at`` (unix seconds, ISO 8601 or datetime), from the mirror.

    ``status`` is one of :data:`STATUSES`; ``since`` names the change (block,
    hash, time) that put the entry in that state; ``mirrorBlock`` says how far
    the mirror had read. A trader never listed before ``at`` has status
    ``unknown`` (and ``firstListed`` if it was listed later). ``at=None``
    means "now": the last entry the mirror holds, judged at the current time
    (a chain whose block clock runs ahead of the wall clock, like the embedded
    one, would otherwise hide its newest changes). A malformed USCC raises
    :class:`ledger.whitelist.uscc.UsccError` (400).
    """
    code = validate_uscc(uscc)
    reader = StandingReader(session, contract)
    if at is None:
        return standing_json(reader.latest(code, int(time.time())), reader.name(code))
    return reader.standing(code, _moment(at))


def annotate_events(session: Session | Connection, events: Iterable[Mapping[str, Any]], *,
                    contract: str | None = None) -> list[dict[str, Any]]:
    """Copies of ``events`` where each event naming a trader (``tl:trader``) carries
    ``tl:traderStanding``: the trader's standing at the event's ``eventTime``,
    and, when the event has ``tl:claims``, the verdict on them at that time.

    Events without a trader are returned as they are (copied). One history
    read per trader, whatever the number of events.
    """
    reader: StandingReader | None = None
    out: list[dict[str, Any]] = []
    for event in events:
        copy = dict(event)
        try:
            claim = read_claim(event, None) if isinstance(event.get("eventTime"), str) else None
        except (InvalidEventError, ValueError) as error:  # stored before the convention was enforced
            copy[STANDING] = {"status": "invalid", "problem": getattr(error, "message", str(error))}
            out.append(copy)
            continue
        if claim is not None:
            reader = reader or StandingReader(session, contract)
            found = reader.at(claim.uscc, claim.at)
            standing = standing_json(found, reader.name(claim.uscc))
            if claim.scope_names:
                verdict = verdict_at(found.entry, claim.scopes, claim.at)
                standing["claims"] = {"scopes": list(claim.scope_names), "verdict": VERDICT_STATUS[verdict],
                                      "allowed": verdict == Verdict.ALLOWED}
            copy[STANDING] = standing
        out.append(copy)
    return out
