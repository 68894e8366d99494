"""Registry writes with the service (ADMIN) key, each followed by a mirror sync.

Every argument is checked here before anything is sent (a bad GLN, an
unknown role, a mistyped address never costs a transaction), and the
registry's refusals come back as typed errors naming the field
(:mod:`ledger.participants.errors`). Each function returns the participant as
the mirror holds it once the indexer has applied the transaction's events.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session
from web3.contract.contract import ContractFunction

from ledger.chain.deploy import participant_id, role_id
from ledger.chain.reverts import ContractRevertError, UnauthorizedError
from ledger.errors import ConfigError, LedgerError
from ledger.gs1 import GS1KeyError, validate_gln
from ledger.participants.errors import (
    GlnAlreadyRegisteredError,
    KeyAlreadyRegisteredError,
    ParticipantInputError,
    ParticipantNotFoundError,
    ParticipantStateError,
)
from ledger.participants.indexer import ParticipantInfo, RegistryIndexer, checksum_address, participant_by_gln
from ledger.participants.roles import parse_role
from ledger.runtime import Ledger

MAX_NAME_BYTES = 256
ZERO_ADDRESS = "0x" + "00" * 20
_STATUS_ACTIVE, _STATUS_SUSPENDED = 1, 2  # IParticipantRegistry.ParticipantStatus


# -- input checks (public: the API validates the same way) ---------------------


def check_gln(value: str, *, field: str = "gln") -> str:
    text = str(value).strip()
    if len(text) != 13 or not text.isdigit():
        raise ParticipantInputError(field, f"a GLN is 13 digits, got {value!r}")
    if int(text) == 0:
        raise ParticipantInputError(field, "the GLN 0000000000000 is not allowed")
    try:
        return validate_gln(text, field=field)
    except GS1KeyError as exc:
        raise ParticipantInputError(field, exc.message.removeprefix(f"{field}: ")) from None


def check_name(value: str, *, field: str = "name") -> str:
    text = value.strip()
    if not text:
        raise ParticipantInputError(field, "must not be empty")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise ParticipantInputError(field, "must not contain control characters (newlines, tabs...)")
    size = len(text.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ParticipantInputError(field, f"is {size} bytes in UTF-8; at most {MAX_NAME_BYTES} are allowed")
    return text


def check_roles(values: Iterable[str], *, field: str = "role") -> list[str]:
    """Canonical role names, duplicates dropped (order kept)."""
    roles: list[str] = []
    for value in values:
        name = parse_role(value, field=field)
        if name not in roles:
            roles.append(name)
    return roles


def check_key(value: str, *, field: str = "key") -> str:
    address = checksum_address(value, field=field)
    if address == ZERO_ADDRESS:
        raise ParticipantInputError(field, "the zero address cannot be a key")
    return address


def check_keys(values: Iterable[str], *, field: str = "key") -> list[str]:
    """Checksummed addresses, duplicates dropped (order kept)."""
    keys: list[str] = []
    for value in values:
        address = check_key(value, field=field)
        if address not in keys:
            keys.append(address)
    return keys


# -- the indexer of a data dir ---------------------------------------------------


def registry_start_block(ledger: Ledger) -> int:
    """First block holding registry events: the block in which ``init`` registered
    the operator with the service key (``getKey(service).addedAtBlock``); 0 if unknown."""
    registry = ledger.contract("ParticipantRegistry")
    try:
        key = ledger.chain.call(registry.functions.getKey(ledger.manifest.service_address))
    except LedgerError:
        return 0
    return int(key[1]) if int.from_bytes(bytes(key[0]), "big") else 0


def registry_indexer(ledger: Ledger, **options: Any) -> RegistryIndexer:
    """The mirror indexer of ``ledger``'s registry (options: page_size, confirmations)."""
    if ledger.engine is None:
        raise ConfigError("the registry mirror needs the index; open the ledger with with_index=True")
    return RegistryIndexer(ledger.engine, ledger.chain, ledger.contract("ParticipantRegistry"),
                           registry_start_block(ledger), **options)


def sync_registry(ledger: Ledger) -> int:
    return registry_indexer(ledger).sync()


# -- writes -----------------------------------------------------------------------


def register_participant(ledger: Ledger, *, gln: str, name: str, roles: Iterable[str], keys: Iterable[str]) -> ParticipantInfo:
    """Register an active participant with its roles and first keys (one transaction)."""
    gln = check_gln(gln)
    name = check_name(name)
    role_list = check_roles(roles)
    key_list = check_keys(keys)
    registry = ledger.contract("ParticipantRegistry")
    require_gln_free(ledger, gln)
    taken = _gln_taken(gln, participant_id(gln))  # the id derives from the GLN: the registry says "id taken"
    _send(ledger, registry.functions.registerParticipant(
        participant_id(gln), int(gln), name, [role_id(r) for r in role_list], key_list),
        meanings={"Registry__ParticipantAlreadyRegistered": taken})
    return _mirrored(ledger, gln)


def suspend_participant(ledger: Ledger, *, gln: str) -> ParticipantInfo:
    gln = check_gln(gln)
    pid, record = require_participant(ledger, gln)
    already = ParticipantStateError("gln", f"participant {gln} ({record[2]}) is already suspended")
    if record[3] == _STATUS_SUSPENDED:
        raise already
    _send(ledger, ledger.contract("ParticipantRegistry").functions.suspendParticipant(pid),
          meanings={"Registry__ParticipantSuspended": already})
    return _mirrored(ledger, gln)


def reactivate_participant(ledger: Ledger, *, gln: str) -> ParticipantInfo:
    gln = check_gln(gln)
    pid, record = require_participant(ledger, gln)
    if record[3] == _STATUS_ACTIVE:
        raise ParticipantStateError("gln", f"participant {gln} ({record[2]}) is active, not suspended")
    _send(ledger, ledger.contract("ParticipantRegistry").functions.reactivateParticipant(pid))
    return _mirrored(ledger, gln)


def add_key(ledger: Ledger, *, gln: str, key: str) -> ParticipantInfo:
    """Add a signing key (never registered before, by anyone) to a participant."""
    gln = check_gln(gln)
    address = check_key(key)
    pid, _ = require_participant(ledger, gln)
    _send(ledger, ledger.contract("ParticipantRegistry").functions.addKey(pid, address))
    return _mirrored(ledger, gln)


def revoke_key(ledger: Ledger, *, key: str) -> ParticipantInfo:
    """Revoke a key for good; returns its (former) participant."""
    address = check_key(key)
    registry = ledger.contract("ParticipantRegistry")
    owner, _added, revoked = ledger.chain.call(registry.functions.getKey(address))
    if not int.from_bytes(bytes(owner), "big"):
        raise ParticipantNotFoundError("key", address, f"{address} is not a registered key")
    gln = f"{int(ledger.chain.call(registry.functions.getParticipant(owner))[1]):013d}"
    already = ParticipantStateError("key", f"{address} (participant {gln}) was already revoked in block {revoked}")
    if revoked:
        raise already
    _send(ledger, registry.functions.revokeKey(address), meanings={
        "Registry__KeyRevoked": already,
        "Registry__UnknownKey": ParticipantNotFoundError("key", address, f"{address} is not a registered key"),
    })
    return _mirrored(ledger, gln)


def grant_role(ledger: Ledger, *, gln: str, role: str) -> ParticipantInfo:
    gln = check_gln(gln)
    name = parse_role(role)
    pid, record = require_participant(ledger, gln)
    registry = ledger.contract("ParticipantRegistry")
    if ledger.chain.call(registry.functions.participantHasRole(pid, role_id(name))):
        raise ParticipantStateError("role", f"participant {gln} ({record[2]}) already holds {name}")
    _send(ledger, registry.functions.grantParticipantRole(pid, role_id(name)))
    return _mirrored(ledger, gln)


def revoke_role(ledger: Ledger, *, gln: str, role: str) -> ParticipantInfo:
    gln = check_gln(gln)
    name = parse_role(role)
    pid, record = require_participant(ledger, gln)
    registry = ledger.contract("ParticipantRegistry")
    if not ledger.chain.call(registry.functions.participantHasRole(pid, role_id(name))):
        raise ParticipantStateError("role", f"participant {gln} ({record[2]}) does not hold {name}")
    _send(ledger, registry.functions.revokeParticipantRole(pid, role_id(name)))
    return _mirrored(ledger, gln)


# -- internals ----------------------------------------------------------------------


def _gln_taken(gln: str, owner: bytes, name: str | None = None) -> GlnAlreadyRegisteredError:
    args = {"gln": int(gln), "participantId": owner}
    message = f"gln: {gln} is already registered, to {name!r}" if name else None
    return GlnAlreadyRegisteredError("Registry__GlnAlreadyRegistered", args, message)


def require_gln_free(ledger: Ledger, gln: str) -> None:
    """Raise GlnAlreadyRegisteredError (409) if a participant holds ``gln``."""
    registry = ledger.contract("ParticipantRegistry")
    owner = bytes(ledger.chain.call(registry.functions.participantOfGln(int(gln))))
    if int.from_bytes(owner, "big"):
        raise _gln_taken(gln, owner, ledger.chain.call(registry.functions.getParticipant(owner))[2])


def require_participant(ledger: Ledger, gln: str) -> tuple[bytes, Any]:
    """(participant id, getParticipant record) of the participant registered under ``gln``."""
    registry = ledger.contract("ParticipantRegistry")
    pid = bytes(ledger.chain.call(registry.functions.participantOfGln(int(gln))))
    if not int.from_bytes(pid, "big"):
        raise ParticipantNotFoundError("gln", gln)
    return pid, ledger.chain.call(registry.functions.getParticipant(pid))


def _send(ledger: Ledger, fn: ContractFunction, *, meanings: Mapping[str, LedgerError] | None = None) -> None:
    """Send with the service key; ``meanings`` turns a registry error into what it
    means for this call (e.g. Registry__ParticipantSuspended, filed under
    "unauthorised" by ledger.chain.reverts, means "already suspended" here)."""
    try:
        ledger.chain.transact(fn, sender=ledger.service_account)
    except ContractRevertError as exc:
        if meanings and exc.error_name in meanings:
            raise meanings[exc.error_name] from None
        if isinstance(exc, KeyAlreadyRegisteredError):  # name the owner by its GLN, not its id
            owner = exc.args_by_name.get("participantId", b"")
            try:
                gln = f"{int(ledger.chain.call(ledger.contract('ParticipantRegistry').functions.getParticipant(owner))[1]):013d}"
            except LedgerError:
                raise exc from None
            address = checksum_address(str(exc.args_by_name.get("key", "")))
            raise KeyAlreadyRegisteredError(exc.error_name, exc.args_by_name, (
                f"key: {address} is (or was) a key of participant {gln}; "
                "a key is never registered twice, even after revocation")) from None
        if exc.error_name == "AccessControlUnauthorizedAccount":
            raise UnauthorizedError(exc.error_name, exc.args_by_name, (
                f"the service key {ledger.service_account.address} lacks the registry's ADMIN governance role; "
                "only a governing key may change participants")) from None
        raise


def _mirrored(ledger: Ledger, gln: str) -> ParticipantInfo:
    registry_indexer(ledger).sync()
    assert ledger.engine is not None
    with Session(ledger.engine) as session:
        info = participant_by_gln(session, gln)
    if info is None:  # the transaction is mined, so only a lagging node could cause this
        raise ParticipantNotFoundError("gln", gln, f"{gln} is on chain but not yet in the mirror; run `traceledger participant list` to sync")
    return info

