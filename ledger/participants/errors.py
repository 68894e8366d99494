"""Errors of the participant registry: bad input (caught before anything is
sent), unknown participants, conflicts the contract refuses, and keys that may
not act.

Importing this module registers the contract's custom errors with
:func:`ledger.chain.reverts.decode_revert`, so a revert of the registry raises
the typed class below with a one-line message naming the field.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ledger.chain.reverts import ContractRevertError
from ledger.errors import InputError, LedgerError


def _gln(value: Any) -> str:
    return f"{int(value):013d}"


def _address(value: Any) -> str:
    from web3 import Web3

    try:
        return Web3.to_checksum_address(value)
    except (TypeError, ValueError):
        return str(value)


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value)


class ParticipantInputError(InputError):
    """An argument is malformed; nothing was sent. ``field`` names the argument."""


class ParticipantNotFoundError(LedgerError):
    """No participant is registered under this GLN (or key)."""

    http_status = 404

    def __init__(self, field: str, value: str, problem: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {problem or f'no participant is registered under {value}'}")


class ParticipantStateError(LedgerError):
    """The participant or key is already in the state asked for (suspend twice...)."""

    http_status = 409

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class KeyNotAuthorisedError(LedgerError):
    """A signing key may not act in a role: unknown, revoked, suspended, or role missing.

    ``reason`` is one of ``unknown_key``, ``key_revoked``,
    ``participant_suspended``, ``role_missing`` (the contract's
    ``requireActiveRole`` order).
    """

    http_status = 403

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


# -- the contract's refusals, typed -------------------------------------------
# Registry__ParticipantSuspended, Registry__KeyRevoked and Registry__UnknownKey
# stay with ledger.chain.reverts.UnauthorizedError (they mostly mean "this key
# may not act"); the service turns them into the errors above where they mean
# "already suspended" / "already revoked" / "no such key".


class GlnAlreadyRegisteredError(ContractRevertError):
    http_status = 409
    solidity_errors = ("Registry__GlnAlreadyRegistered",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        super().__init__(error_name, args, message or (
            f"gln: {_gln(args.get('gln', 0))} is already registered (participant {_hex(args.get('participantId'))})"))


class ParticipantAlreadyRegisteredError(ContractRevertError):
    http_status = 409
    solidity_errors = ("Registry__ParticipantAlreadyRegistered",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        super().__init__(error_name, args, message or (
            f"gln: a participant with id {_hex(args.get('participantId'))} is already registered"))


class UnknownParticipantError(ContractRevertError):
    http_status = 404
    solidity_errors = ("Registry__UnknownParticipant",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        super().__init__(error_name, args, message or (
            f"gln: no participant is registered with id {_hex(args.get('participantId'))}"))


class ParticipantNotSuspendedError(ContractRevertError):
    http_status = 409
    solidity_errors = ("Registry__ParticipantNotSuspended",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        super().__init__(error_name, args, message or (
            f"gln: participant {_hex(args.get('participantId'))} is active, not suspended"))


class KeyAlreadyRegisteredError(ContractRevertError):
    http_status = 409
    solidity_errors = ("Registry__KeyAlreadyRegistered",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        super().__init__(error_name, args, message or (
            f"key: {_address(args.get('key'))} is (or was) a key of participant {_hex(args.get('participantId'))}; "
            "a key is never registered twice, even after revocation"))


class InvalidRegistryInputError(ContractRevertError):
    """The contract refused an argument the service should have caught first."""

    http_status = 400
    solidity_errors = ("Registry__InvalidGln", "Registry__InvalidNameLength", "Registry__ZeroKey",
                       "Registry__ZeroParticipantId", "Registry__UnknownRole")

    _FIELDS: ClassVar[dict[str, str]] = {"Registry__InvalidGln": "gln", "Registry__InvalidNameLength": "name", "Registry__ZeroKey": "key",
               "Registry__ZeroParticipantId": "gln", "Registry__UnknownRole": "role"}

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        field = self._FIELDS.get(error_name, "argument")
        rendered = ", ".join(f"{k}={_hex(v)}" for k, v in args.items())
        super().__init__(error_name, args, message or f"{field}: the registry refused it ({error_name}({rendered}))")


class RoleConflictError(ContractRevertError):
    http_status = 409
    solidity_errors = ("Registry__RoleAlreadyGranted", "Registry__RoleNotGranted")

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        from ledger.participants.roles import ROLE_BY_ID

        role = ROLE_BY_ID.get(bytes(args.get("role", b"")), _hex(args.get("role")))
        verb = "already holds" if error_name == "Registry__RoleAlreadyGranted" else "does not hold"
        super().__init__(error_name, args, message or (
            f"role: participant {_hex(args.get('participantId'))} {verb} {role}"))
