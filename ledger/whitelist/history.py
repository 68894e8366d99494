"""A trader's history, rebuilt from the contract's events alone.

Every change of an entry emits one event carrying the entry's new version
(see ``ITraderWhitelist.sol``); :func:`replay` folds a trader's events, in
chain order, into the entry after each change, and refuses a history with a
gap in the versions. The result must equal ``getEntry`` on chain: a test
checks it, and ``traceledger whitelist history --verify`` does too.

:func:`read_events` asks the node directly (``eth_getLogs`` filtered by the
contract and, optionally, the trader's USCC topic); the index mirror
(:mod:`ledger.whitelist.mirror`) stores the same events for speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3.contract import Contract

from ledger.chain.base import Chain
from ledger.chain.mirror import block_times
from ledger.chain.mirror import fetch_logs as chain_logs
from ledger.errors import LedgerError
from ledger.whitelist.model import CreditLevel, Entry, EntryStatus, iso, scope_names
from ledger.whitelist.uscc import from_bytes18, to_bytes18

EVENT_NAMES = ("EntrySet", "EntrySuspended", "SuspensionLifted", "EntryRevoked", "CreditRepaired")
class HistoryGapError(LedgerError):
    """The events of a trader skip a version: the history read is incomplete."""

    http_status = 502


@dataclass(frozen=True)
class WhitelistEvent:
    """One decoded event of the whitelist contract."""

    kind: str
    uscc: str
    version: int
    officer: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    block_time: int | None = None
    level: CreditLevel | None = None
    previous_level: CreditLevel | None = None
    status: EntryStatus | None = None
    scopes: int | None = None
    valid_from: int | None = None
    valid_until: int | None = None
    dossier_hash: bytes | None = None
    reason: str | None = None

    @property
    def order(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


@dataclass(frozen=True)
class Change:
    """One step of a trader's history: the event and the entry right after it."""

    event: WhitelistEvent
    change: str  # listed, updated, relisted, suspended, suspension_lifted, revoked, credit_repaired
    entry: Entry

    def to_json(self) -> dict[str, Any]:
        e = self.event
        body: dict[str, Any] = {
            "version": e.version,
            "change": self.change,
            "officer": e.officer,
            "blockNumber": e.block_number,
            "blockHash": e.block_hash,
            "blockTime": iso(e.block_time) if e.block_time is not None else None,
            "transactionHash": e.tx_hash,
            "logIndex": e.log_index,
        }
        if e.kind == "EntrySet":
            body.update({"level": e.level.name, "scopes": scope_names(e.scopes or 0), "validFrom": iso(e.valid_from),
                         "validUntil": iso(e.valid_until), "dossierHash": "0x" + e.dossier_hash.hex()})
        elif e.kind == "CreditRepaired":
            body.update({"previousLevel": e.previous_level.name, "level": e.level.name,
                         "dossierHash": "0x" + e.dossier_hash.hex()})
        else:
            body["reason"] = e.reason
        body["entry"] = self.entry.to_json()
        return body


@cache
def _topics(abi_json: str) -> dict[bytes, str]:
    import json

    return {
        bytes(event_abi_to_log_topic(item)): item["name"]
        for item in json.loads(abi_json)
        if item.get("type") == "event" and item["name"] in EVENT_NAMES
    }


def event_topics(contract: Contract) -> dict[bytes, str]:
    """topic0 -> event name, for the whitelist's five events."""
    import json

    return _topics(json.dumps(contract.abi, sort_keys=True))


def uscc_topic(uscc: str) -> str:
    """The indexed ``bytes18 uscc`` as a log topic (left-aligned, zero-padded to 32 bytes)."""
    return "0x" + to_bytes18(uscc).ljust(32, b"\0").hex()


def decode_logs(contract: Contract, logs: Iterable[Any], block_times: dict[int, int] | None = None) -> list[WhitelistEvent]:
    """Decode raw logs of the whitelist contract (others are ignored), in the order given."""
    topics = event_topics(contract)
    events = []
    for log in logs:
        if not log["topics"]:
            continue
        name = topics.get(bytes(log["topics"][0]))
        if name is None:
            continue
        decoded = contract.events[name]().process_log(log)
        a = decoded["args"]
        common: dict[str, Any] = {
            "kind": name,
            "uscc": from_bytes18(a["uscc"]),
            "version": a["version"],
            "officer": a["officer"],
            "block_number": log["blockNumber"],
            "block_hash": "0x" + bytes(log["blockHash"]).hex(),
            "tx_hash": "0x" + bytes(log["transactionHash"]).hex(),
            "log_index": log["logIndex"],
            "block_time": (block_times or {}).get(log["blockNumber"]),
        }
        if name == "EntrySet":
            common.update(level=CreditLevel(a["level"]), status=EntryStatus(a["status"]), scopes=a["scopes"],
                          valid_from=a["validFrom"], valid_until=a["validUntil"], dossier_hash=bytes(a["dossierHash"]))
        elif name == "CreditRepaired":
            common.update(level=CreditLevel(a["level"]), previous_level=CreditLevel(a["previousLevel"]),
                          dossier_hash=bytes(a["dossierHash"]))
        else:
            common["reason"] = a["reason"]
        events.append(WhitelistEvent(**common))
    return events


def fetch_logs(chain: Chain, contract: Contract, from_block: int, to_block: int, uscc: str | None = None) -> list[Any]:
    """Raw logs of the whitelist's events in [from_block, to_block] (of one trader if ``uscc``)."""
    topic0 = ["0x" + t.hex() for t in event_topics(contract)]
    return chain_logs(chain, contract, from_block, to_block, [topic0] + ([uscc_topic(uscc)] if uscc else []))


def read_events(chain: Chain, contract: Contract, *, from_block: int, to_block: int | None = None,
                uscc: str | None = None, with_times: bool = True) -> list[WhitelistEvent]:
    """The contract's events from the node itself, in chain order."""
    last = chain._guard(lambda: chain.w3.eth.block_number) if to_block is None else to_block
    logs = fetch_logs(chain, contract, from_block, last, uscc)
    times = block_times(chain, (log["blockNumber"] for log in logs)) if with_times else None
    return decode_logs(contract, logs, times)


def _empty(uscc: str) -> Entry:
    return Entry(uscc=uscc, level=CreditLevel.NONE, status=EntryStatus.NONE, scopes=0, valid_from=0, valid_until=0,
                 dossier_hash=bytes(32), version=0, updated_at_block=0, status_reason="")


def apply(entry: Entry, event: WhitelistEvent) -> tuple[str, Entry]:
    """The entry after ``event`` (the contract's rules), and the name of the change."""
    if event.version != entry.version + 1:
        raise HistoryGapError(
            f"history of {event.uscc}: version {event.version} follows version {entry.version} "
            f"(block {event.block_number}); events are missing")
    common = {"version": event.version, "updated_at_block": event.block_number}
    match event.kind:
        case "EntrySet":
            change = {EntryStatus.NONE: "listed", EntryStatus.REVOKED: "relisted"}.get(entry.status, "updated")
            reason = "" if entry.status == EntryStatus.REVOKED else entry.status_reason
            return change, replace(entry, level=event.level, status=event.status, scopes=event.scopes,
                                   valid_from=event.valid_from, valid_until=event.valid_until,
                                   dossier_hash=event.dossier_hash, status_reason=reason, **common)
        case "EntrySuspended":
            return "suspended", replace(entry, status=EntryStatus.SUSPENDED, status_reason=event.reason, **common)
        case "SuspensionLifted":
            return "suspension_lifted", replace(entry, status=EntryStatus.ACTIVE, status_reason=event.reason, **common)
        case "EntryRevoked":
            return "revoked", replace(entry, status=EntryStatus.REVOKED, status_reason=event.reason, **common)
        case "CreditRepaired":
            return "credit_repaired", replace(entry, level=event.level, dossier_hash=event.dossier_hash, **common)
    raise LedgerError(f"unknown whitelist event {event.kind}")


def replay(events: Sequence[WhitelistEvent]) -> list[Change]:
    """One trader's changes, each with the entry after it; ``events`` in any order."""
    ordered = sorted(events, key=lambda e: e.order)
    if not ordered:
        return []
    usccs = {e.uscc for e in ordered}
    if len(usccs) != 1:
        raise LedgerError(f"replay takes the events of one trader, got {len(usccs)}")
    entry = _empty(ordered[0].uscc)
    changes = []
    for event in ordered:
        change, entry = apply(entry, event)
        changes.append(Change(event, change, entry))
    return changes


def replay_all(events: Sequence[WhitelistEvent]) -> dict[str, Entry]:
    """The current entry of every trader, from all the contract's events."""
    entries: dict[str, Entry] = {}
    for event in sorted(events, key=lambda e: e.order):
        _, entries[event.uscc] = apply(entries.get(event.uscc) or _empty(event.uscc), event)
    return entries


def utc(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
