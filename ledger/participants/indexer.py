"""Follow the participant registry's events into the index's mirror.

:class:`RegistryIndexer` reads the registry's seven events page by page
(one ``eth_getLogs`` per page, filtered by the contract's address and decoded
by topic) from the block after its cursor to the chain's head, and applies
them in (block, log index) order. Each page's events, the mirror changes they
imply, and the cursor move commit in ONE transaction, so a crash loses nothing
and a restart applies nothing twice. Several processes may run it against one
index: a PostgreSQL advisory lock (SQLite: the write lock) serialises the
writers and a page whose cursor moved meanwhile is dropped and re-read.

Reorgs: the cursor keeps the hash of its block. When the chain's block at
that height has another hash (or is gone), the indexer walks back over the
blocks its stored events came from to the newest one still on the chain,
deletes the events above it, rebuilds ``participant``/``participant_key`` by
replaying the remaining events (no chain reads), and continues from there.

The query helpers at the bottom are what the capture path uses:
:func:`key_status` answers "who is this key and may it act in this role"
from the mirror, as the registry's ``hasActiveRole`` would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BlockNotFound

from ledger.chain.base import Chain
from ledger.errors import ChainError, IndexStoreError, LedgerError
from ledger.index.db import write_session
from ledger.participants.errors import KeyNotAuthorisedError, ParticipantInputError
from ledger.participants.models import (
    ChainCursor,
    Participant,
    ParticipantKey,
    ParticipantStatus,
    RegistryEvent,
    RegistryEventKind,
)
from ledger.participants.roles import ROLE_BITS, ROLE_BY_ID, parse_role, role_names

logger = logging.getLogger(__name__)

REGISTRY_INDEXER_LOCK = 7377101  # pg advisory lock id: "one registry-mirror writer at a time"
DEFAULT_PAGE_SIZE = 2_000
MAX_UNSTABLE_ROUNDS = 8  # consecutive rewinds / moving pages before sync gives up for now


@dataclass(frozen=True)
class _Cursor:
    block_number: int
    block_hash: str


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


class RegistryIndexer:
    """Mirror of one ParticipantRegistry contract in the index at ``engine``.

    ``start_block`` is the first block to read (the registry's deployment or
    the operator's registration: see :func:`ledger.participants.service.registry_indexer`).
    ``confirmations`` > 0 stays that many blocks behind the head (0 suits QBFT's
    immediate finality; reorgs are handled either way).
    """

    def __init__(
        self,
        engine: Engine,
        chain: Chain,
        registry_contract: Contract,
        start_block: int = 0,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        confirmations: int = 0,
        cursor_name: str | None = None,
    ) -> None:
        if page_size < 1 or start_block < 0 or confirmations < 0:
            raise ValueError("page_size must be >= 1, start_block and confirmations >= 0")
        self.engine = engine
        self.chain = chain
        self.registry = registry_contract
        self.start_block = start_block
        self.page_size = page_size
        self.confirmations = confirmations
        self.cursor_name = cursor_name or f"registry:{registry_contract.address}"
        kinds = {kind.value for kind in RegistryEventKind}
        self._events_by_topic: dict[bytes, str] = {}
        for item in registry_contract.abi:
            if item.get("type") == "event" and item["name"] in kinds:
                signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                self._events_by_topic[Web3.keccak(text=signature)] = item["name"]
        missing = kinds - set(self._events_by_topic.values())
        if missing:
            raise ValueError(f"contract ABI lacks registry events {sorted(missing)}")

    # -- public ---------------------------------------------------------

    def cursor(self) -> tuple[int, str] | None:
        """(block number, block hash) of the last block processed, or None before the first sync."""
        with Session(self.engine) as session:
            row = session.get(ChainCursor, self.cursor_name)
            return None if row is None else (row.block_number, row.block_hash)

    def sync(self, *, until: int | None = None) -> int:
        """Catch up with the chain's head (or block ``until``, if lower); return how many events were applied."""
        applied = 0
        unstable = 0
        while True:
            if unstable >= MAX_UNSTABLE_ROUNDS:
                raise ChainError(f"{self.chain.description} keeps reorganising under the registry indexer; will retry")
            cursor = self._load_cursor()
            if cursor is not None and not self._still_on_chain(cursor):
                self._rewind(cursor)
                unstable += 1
                continue
            head = self._node(lambda: self.chain.w3.eth.block_number) - self.confirmations
            if until is not None:
                head = min(head, until)
            first = self.start_block if cursor is None else cursor.block_number + 1
            if first > head:
                return applied
            last = min(first + self.page_size - 1, head)
            page = self._read_page(first, last)
            if page is None:  # the chain moved under the page: look again
                unstable += 1
                continue
            events, last_hash = page
            done = self._apply(cursor, events, _Cursor(last, last_hash))
            if done is None:  # another process moved the cursor meanwhile
                unstable += 1
                continue
            applied += done
            unstable = 0

    def run(self, stop_event: threading.Event, interval: float = 1.0) -> None:
        """Sync every ``interval`` seconds until ``stop_event`` is set (for a
        background thread). Failures are logged and retried with backoff."""
        failures = 0
        while not stop_event.is_set():
            try:
                count = self.sync()
                if count:
                    logger.info("registry mirror: applied %d event(s)", count)
                failures = 0
            except LedgerError as exc:
                failures += 1
                logger.warning("registry mirror: sync failed (%s); retrying", exc.message)
            except Exception:
                failures += 1
                logger.exception("registry mirror: sync failed; retrying")
            stop_event.wait(min(interval * 2 ** min(failures, 5), 30.0) if failures else interval)

    # -- reading the chain ----------------------------------------------

    def _node(self, operation: Callable[[], Any]) -> Any:
        return self.chain._guard(operation)  # transport failures -> ChainError

    def _still_on_chain(self, cursor: _Cursor) -> bool:
        return self.chain.block_hash_at(cursor.block_number) == cursor.block_hash

    def _read_page(self, first: int, last: int) -> tuple[list[RegistryEvent], str] | None:
        """The registry's events in blocks first..last, and the hash of block
        ``last``; None if the chain changed while reading."""
        before = self.chain.block_hash_at(last)
        if before is None:
            return None
        logs = self._node(lambda: self.chain.w3.eth.get_logs(
            {"address": self.registry.address, "fromBlock": first, "toBlock": last}))
        if self.chain.block_hash_at(last) != before:
            return None
        times: dict[str, datetime | None] = {}
        events: list[RegistryEvent] = []
        for log in sorted(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"])):
            if log.get("removed"):
                continue
            name = self._events_by_topic.get(bytes(log["topics"][0])) if log["topics"] else None
            if name is None:  # AccessControl's governance events and the like
                continue
            args = getattr(self.registry.events, name)().process_log(log)["args"]
            block_hash = _hex(log["blockHash"])
            if block_hash not in times:
                times[block_hash] = self._block_time(block_hash)
            events.append(_event_row(name, args, log, block_hash, times[block_hash]))
        return events, before

    def _block_time(self, block_hash: str) -> datetime | None:
        try:
            block = self._node(lambda: self.chain.w3.eth.get_block(block_hash))
        except BlockNotFound:
            return None
        return datetime.fromtimestamp(int(block["timestamp"]), UTC)

    # -- writing the mirror ---------------------------------------------

    def _load_cursor(self, session: Session | None = None) -> _Cursor | None:
        if session is None:
            with Session(self.engine) as fresh:
                return self._load_cursor(fresh)
        row = session.get(ChainCursor, self.cursor_name, populate_existing=True)
        return None if row is None else _Cursor(row.block_number, row.block_hash)

    def _store_cursor(self, session: Session, cursor: _Cursor | None) -> None:
        row = session.get(ChainCursor, self.cursor_name)
        if cursor is None:
            if row is not None:
                session.delete(row)
            return
        if row is None:
            row = ChainCursor(name=self.cursor_name, block_number=cursor.block_number, block_hash=cursor.block_hash,
                              updated_at=datetime.now(UTC))
        else:
            row.block_number, row.block_hash, row.updated_at = cursor.block_number, cursor.block_hash, datetime.now(UTC)
        session.add(row)

    def _apply(self, expected: _Cursor | None, events: Sequence[RegistryEvent], new: _Cursor) -> int | None:
        with write_session(self.engine, advisory_lock=REGISTRY_INDEXER_LOCK) as session:
            if self._load_cursor(session) != expected:
                return None
            if expected is None:  # first page (or the cursor was reset): start from an empty mirror
                _clear_mirror(session)
            for event in events:
                _project(session, event)
                session.add(event)
                session.flush()
            self._store_cursor(session, new)
        return len(events)

    def _rewind(self, stale: _Cursor) -> None:
        """Drop what came from blocks no longer on the chain; rebuild the mirror from the rest."""
        with Session(self.engine) as session:
            blocks = session.exec(
                select(RegistryEvent.block_number, RegistryEvent.block_hash)
                .where(RegistryEvent.block_number <= stale.block_number)
                .distinct()
                .order_by(col(RegistryEvent.block_number).desc())
            ).all()
        ancestor: _Cursor | None = None
        for number, block_hash in blocks:
            if self.chain.block_hash_at(number) == block_hash:
                ancestor = _Cursor(number, block_hash)
                break
        with write_session(self.engine, advisory_lock=REGISTRY_INDEXER_LOCK) as session:
            if self._load_cursor(session) != stale:
                return  # someone else rewound already
            if ancestor is None:
                session.execute(sa.delete(RegistryEvent))
            else:
                session.execute(sa.delete(RegistryEvent).where(col(RegistryEvent.block_number) > ancestor.block_number))
            _clear_mirror(session, keep_events=True)
            remaining = session.exec(select(RegistryEvent).order_by(col(RegistryEvent.block_number), col(RegistryEvent.log_index))).all()
            for event in remaining:
                _project(session, event)
                session.flush()
            self._store_cursor(session, ancestor)
        logger.warning(
            "registry mirror: chain reorganised below block %d (%s); rewound to %s and replayed %d event(s)",
            stale.block_number, stale.block_hash,
            f"block {ancestor.block_number}" if ancestor else f"the start (block {self.start_block})", len(remaining),
        )


def _event_row(name: str, args: Any, log: Any, block_hash: str, block_time: datetime | None) -> RegistryEvent:
    row = RegistryEvent(
        block_number=int(log["blockNumber"]),
        block_hash=block_hash,
        block_time=block_time,
        tx_hash=_hex(log["transactionHash"]),
        log_index=int(log["logIndex"]),
        kind=name,
        participant_id=_hex(args["participantId"]),
    )
    if name == RegistryEventKind.PARTICIPANT_REGISTERED:
        row.gln = f"{int(args['gln']):013d}"
        row.name = args["name"]
    elif name in (RegistryEventKind.KEY_ADDED, RegistryEventKind.KEY_REVOKED):
        row.key_address = Web3.to_checksum_address(args["key"])
    elif name in (RegistryEventKind.ROLE_GRANTED, RegistryEventKind.ROLE_REVOKED):
        role = bytes(args["role"])
        row.role = ROLE_BY_ID.get(role, _hex(role))
    return row


def _clear_mirror(session: Session, *, keep_events: bool = False) -> None:
    session.execute(sa.delete(ParticipantKey))
    session.execute(sa.delete(Participant))
    if not keep_events:
        session.execute(sa.delete(RegistryEvent))
    session.flush()


def _project(session: Session, event: RegistryEvent) -> None:
    """Apply one event to ``participant`` / ``participant_key``."""
    kind = event.kind
    block = event.block_number
    if kind == RegistryEventKind.PARTICIPANT_REGISTERED:
        session.add(Participant(id=event.participant_id, gln=event.gln, name=event.name, status=ParticipantStatus.ACTIVE,
                                roles=0, registered_block=block, updated_block=block))
        return
    participant = session.get(Participant, event.participant_id)
    if participant is None:
        raise IndexStoreError(
            f"registry event {kind} in block {block} names participant {event.participant_id}, which the mirror "
            "does not know: the indexer's start block is after that participant's registration"
        )
    event.gln = participant.gln
    participant.updated_block = block
    if kind == RegistryEventKind.PARTICIPANT_SUSPENDED:
        participant.status = ParticipantStatus.SUSPENDED
    elif kind == RegistryEventKind.PARTICIPANT_REACTIVATED:
        participant.status = ParticipantStatus.ACTIVE
    elif kind == RegistryEventKind.KEY_ADDED:
        session.add(ParticipantKey(address=event.key_address, participant_id=event.participant_id, added_block=block))
    elif kind == RegistryEventKind.KEY_REVOKED:
        key = session.get(ParticipantKey, event.key_address)
        if key is None:
            raise IndexStoreError(f"registry event KeyRevoked in block {block} names key {event.key_address}, which the mirror does not know")
        key.revoked_block = block
        session.add(key)
    elif kind == RegistryEventKind.ROLE_GRANTED:
        participant.roles = participant.roles | ROLE_BITS.get(event.role or "", 0)
    elif kind == RegistryEventKind.ROLE_REVOKED:
        participant.roles = participant.roles & ~ROLE_BITS.get(event.role or "", 0)
    session.add(participant)


# -- queries (the capture path, the CLI, the API) ------------------------------


@dataclass(frozen=True)
class KeyInfo:
    address: str
    added_block: int
    revoked_block: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_block is not None


@dataclass(frozen=True)
class ParticipantInfo:
    id: str
    gln: str
    name: str
    status: str
    roles: tuple[str, ...]
    role_mask: int
    registered_block: int
    updated_block: int
    keys: tuple[KeyInfo, ...]

    @property
    def active(self) -> bool:
        return self.status == ParticipantStatus.ACTIVE

    @property
    def active_keys(self) -> tuple[KeyInfo, ...]:
        return tuple(k for k in self.keys if not k.revoked)


@dataclass(frozen=True)
class KeyStatus:
    """What the mirror knows about a signing key (as of the indexer's cursor).

    ``registered`` is False for a key the registry never saw; then every other
    field is empty. ``roles`` are the participant's roles whatever its status;
    use :attr:`active` / :meth:`may_act_as` / :meth:`require` to authorise.
    """

    address: str
    registered: bool
    participant_id: str | None = None
    gln: str | None = None
    name: str | None = None
    participant_active: bool = False
    key_revoked: bool = False
    roles: frozenset[str] = frozenset()
    added_block: int | None = None
    revoked_block: int | None = None

    @property
    def active(self) -> bool:
        """The key may act at all: registered, not revoked, participant active."""
        return self.registered and not self.key_revoked and self.participant_active

    def may_act_as(self, role: str) -> bool:
        return self.active and role.strip().upper() in self.roles

    def require(self, role: str) -> None:
        """Raise :class:`KeyNotAuthorisedError` (403) unless the key may act in ``role``;
        reasons in the order of the registry's ``requireActiveRole``."""
        name = parse_role(role)
        if not self.registered:
            raise KeyNotAuthorisedError("unknown_key", f"key {self.address} is not registered with any participant")
        who = f"participant {self.gln} ({self.name})"
        if self.key_revoked:
            raise KeyNotAuthorisedError("key_revoked", f"key {self.address} of {who} was revoked in block {self.revoked_block}")
        if not self.participant_active:
            raise KeyNotAuthorisedError("participant_suspended", f"{who} is suspended; key {self.address} may not act")
        if name not in self.roles:
            held = ", ".join(sorted(self.roles)) or "none"
            raise KeyNotAuthorisedError("role_missing", f"{who} does not hold the {name} role (holds: {held})")


def checksum_address(value: str, *, field: str = "key") -> str:
    """EIP-55 form of ``value``; a mixed-case address must already be correctly checksummed."""
    text = value.strip()
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if len(body) != 40 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ParticipantInputError(field, f"{value!r} is not an address (0x and 40 hex digits)")
    if body != body.lower() and body != body.upper() and not Web3.is_checksum_address("0x" + body):
        raise ParticipantInputError(field, f"{value} has a wrong EIP-55 checksum (mistyped?); expected {Web3.to_checksum_address('0x' + body.lower())}")
    return Web3.to_checksum_address("0x" + body.lower())


def key_status(session: Session, address: str) -> KeyStatus:
    """Who ``address`` belongs to and whether it may act, from the mirror."""
    checksummed = checksum_address(address)
    key = session.get(ParticipantKey, checksummed)
    if key is None:
        return KeyStatus(address=checksummed, registered=False)
    participant = session.get(Participant, key.participant_id)
    assert participant is not None  # foreign key
    return KeyStatus(
        address=checksummed,
        registered=True,
        participant_id=participant.id,
        gln=participant.gln,
        name=participant.name,
        participant_active=participant.status == ParticipantStatus.ACTIVE,
        key_revoked=key.revoked_block is not None,
        roles=frozenset(role_names(participant.roles)),
        added_block=key.added_block,
        revoked_block=key.revoked_block,
    )


def _info(participant: Participant, keys: Sequence[ParticipantKey]) -> ParticipantInfo:
    return ParticipantInfo(
        id=participant.id,
        gln=participant.gln,
        name=participant.name,
        status=participant.status,
        roles=role_names(participant.roles),
        role_mask=participant.roles,
        registered_block=participant.registered_block,
        updated_block=participant.updated_block,
        keys=tuple(KeyInfo(k.address, k.added_block, k.revoked_block) for k in sorted(keys, key=lambda k: (k.added_block, k.address))),
    )


def participant_by_gln(session: Session, gln: str) -> ParticipantInfo | None:
    participant = session.exec(select(Participant).where(Participant.gln == gln.strip())).first()
    if participant is None:
        return None
    keys = session.exec(select(ParticipantKey).where(ParticipantKey.participant_id == participant.id)).all()
    return _info(participant, keys)


def list_participants(session: Session, *, role: str | None = None, status: str | None = None) -> list[ParticipantInfo]:
    """Every mirrored participant ordered by GLN, optionally only those holding ``role`` / in ``status``."""
    query = select(Participant).order_by(Participant.gln)
    if role is not None:
        query = query.where(col(Participant.roles).op("&")(ROLE_BITS[parse_role(role)]) != 0)
    if status is not None:
        query = query.where(Participant.status == status)
    participants = session.exec(query).all()
    keys_by_owner: dict[str, list[ParticipantKey]] = {}
    if participants:
        for key in session.exec(select(ParticipantKey)).all():
            keys_by_owner.setdefault(key.participant_id, []).append(key)
    return [_info(p, keys_by_owner.get(p.id, [])) for p in participants]


def registry_history(session: Session, *, gln: str | None = None) -> list[RegistryEvent]:
    """Processed registry events in chain order, optionally of one participant."""
    query = select(RegistryEvent).order_by(col(RegistryEvent.block_number), col(RegistryEvent.log_index))
    if gln is not None:
        query = query.where(RegistryEvent.gln == gln.strip())
    return list(session.exec(query).all())
