"""The capture-time check of cross-border events: may the trader claim what it claims, then?

Called by :func:`ledger.capture.service._policy_refusal` after the role
policy, with the capture's read session. For every event naming a trader
(``tl:trader``) it:

1. validates the convention's fields (a malformed USCC, claims that are not
   known scope names, a ``tl:clearedBy`` that is not a party GLN): raises
   :class:`~ledger.epcis.errors.InvalidEventError` (400, ``event N, field
   tl:trader: ...``), before anything is refused or stored;
2. judges the claimed scopes (``tl:claims``) against the whitelist entry the
   trader had AT THE EVENT'S TIME (``eventTime``), with the contract's rules
   and order: unknown, revoked, suspended, dishonest, not yet valid, expired,
   scope not held. The first event that fails gives the refusal reason
   (stored with the refused capture and answered as a 403), naming the
   event, the trader, the scope(s) and why;
3. refuses a customs clearance whose ``tl:clearedBy`` names another party
   than the signing organisation.

Source of truth: the index's mirror of the whitelist contract's events, not
the chain. Capture must work while the chain node is unreachable, and the
entry "at the event's time" is history, which only the events hold (the
contract answers for its current entry only). The mirror holds those events
with their block hashes, up to its cursor; the reason names the block the
mirror had read (``whitelist as of block N``) so a refusal caused by a
stale mirror can be recognised and the capture retried after a sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ledger.crossborder.convention import TraderClaim, cleared_by_gln, is_clearance, mentions_trader, read_claim
from ledger.crossborder.standing import EntryAt, StandingReader, verdict_at
from ledger.whitelist.model import Verdict, iso, scope_names


def claim_refusal(session: Session, signer: Any, events: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the capture of ``events`` (validated, normalised) by ``signer`` is refused, or None."""
    if not any(mentions_trader(event) for event in events):
        return None  # the hot path: no cross-border field anywhere
    found: list[tuple[int, TraderClaim | None, str | None]] = []
    for position, event in enumerate(events):
        if mentions_trader(event):
            found.append((position, read_claim(event, position), cleared_by_gln(event, position)))
    reader = StandingReader(session)
    for position, claim, cleared_by in found:
        event = events[position]
        if cleared_by is not None and is_clearance(event) and cleared_by != getattr(signer, "gln", cleared_by):
            return (f"event {position}: tl:clearedBy names party GLN {cleared_by}, but the clearance is signed by "
                    f"{signer.name} (GLN {signer.gln}); customs records its own clearances only")
        if claim is None or not claim.scopes:
            continue
        state = reader.at(claim.uscc, claim.at)
        verdict = verdict_at(state.entry, claim.scopes, claim.at)
        if verdict != Verdict.ALLOWED:
            return _reason(position, claim, state, verdict, reader.name(claim.uscc))
    return None


def _when(event_block: int, time: int | None) -> str:
    return f"block {event_block}" + (f" ({iso(time)})" if time is not None else "")


def _reason(position: int, claim: TraderClaim, state: EntryAt, verdict: Verdict, name: str | None) -> str:
    who = f"{claim.uscc} ({name})" if name else claim.uscc
    entry, change = state.entry, state.change
    since = _when(change.event.block_number, change.event.block_time) if change else ""
    match verdict:
        case Verdict.UNKNOWN:
            why = f"unknown: {claim.uscc} was not on the whitelist at that time"
            if state.next_change is not None:
                why += f" (first listed at {_when(state.next_change.event.block_number, state.next_change.event.block_time)})"
            elif state.mirror.contract is None:
                why += " (this index holds no copy of the whitelist yet: its mirror was never synced)"
        case Verdict.REVOKED:
            why = f"revoked: the entry was revoked at {since}: {entry.status_reason}"
        case Verdict.SUSPENDED:
            why = f"suspended: the entry was suspended at {since}: {entry.status_reason}"
        case Verdict.DISHONEST:
            why = "dishonest: credit level DISHONEST, the trader holds no scope"
        case Verdict.NOT_YET_VALID:
            why = f"not yet valid: the entry is valid from {iso(entry.valid_from)}"
        case Verdict.EXPIRED:
            why = f"expired: the entry expired at {iso(entry.valid_until)}"
        case _:
            held = ", ".join(scope_names(entry.scopes)) or "no scope"
            missing = ", ".join(scope_names(claim.scopes & ~entry.scopes))
            why = f"scope not held: the trader holds {held}, not {missing}"
    mirror = state.mirror
    where = f"whitelist as of block {mirror.block_number}" if mirror.block_number is not None else "whitelist never synced"
    return (f"event {position}: trader {who} may not claim {', '.join(claim.scope_names)} at "
            f"{claim.event_time}: {why} [{where}]")
