"""Errors of the trader whitelist.

Bad input is caught in Python before anything is sent (:class:`WhitelistInputError`,
:class:`ledger.whitelist.uscc.UsccError`). Importing this module registers the
contract's custom errors with :func:`ledger.chain.reverts.decode_revert`, so a
revert raises one of the typed classes below with a one-line message.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from ledger.chain.reverts import ContractRevertError, UnauthorizedError
from ledger.errors import InputError, NotFoundError

_LEVELS = {0: "NONE", 1: "ADVANCED_CERTIFIED", 2: "GENERAL", 3: "DISHONEST"}
_STATUSES = {0: "not listed", 1: "active", 2: "suspended", 3: "revoked"}


class WhitelistInputError(InputError):
    """An argument is malformed; nothing was sent. ``field`` names the argument."""


class TraderNotFoundError(NotFoundError):
    """The trader has never been listed."""

    def __init__(self, uscc: str, block_number: int | None = None) -> None:
        self.uscc = uscc
        where = f" (as of block {block_number})" if block_number is not None else ""
        super().__init__(f"uscc: {uscc} is not on the whitelist{where}")


def _uscc(args: dict[str, Any]) -> str:
    raw = args.get("uscc", b"")
    return bytes(raw).rstrip(b"\0").decode("ascii", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)


def _checksummed(args: dict[str, Any]) -> dict[str, Any]:
    """ABI decoding gives lower-case addresses; messages and callers want EIP-55."""
    return {k: to_checksum_address(v) if isinstance(v, str) and len(v) == 42 and v.startswith("0x") else v
            for k, v in args.items()}


class _WhitelistRevert(ContractRevertError):
    """Base: builds the message from the error's name and arguments."""

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        args = _checksummed(args)
        super().__init__(error_name, args, message or _explain(error_name, args))


class WhitelistUnauthorizedError(UnauthorizedError):
    """The writing (or signing) key does not hold CUSTOMS actively in the registry."""

    http_status = 403
    solidity_errors = ("Whitelist__Unauthorized",)

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        args = _checksummed(args)
        super().__init__(error_name, args, message or (
            f"key {args.get('account')} does not hold CUSTOMS actively in the participant registry: "
            "only customs officers write the whitelist"))


class WhitelistRefusedError(_WhitelistRevert):
    """The contract refused the content (it re-checks what the Python side checks first)."""

    http_status = 400
    solidity_errors = (
        "Whitelist__InvalidUscc", "Whitelist__InvalidLevel", "Whitelist__InvalidValidity",
        "Whitelist__ZeroDossierHash", "Whitelist__DishonestWithScopes", "Whitelist__InvalidRepairLevel",
        "Whitelist__InvalidReasonLength", "Whitelist__EmptyBatch",
    )


class WhitelistStateError(_WhitelistRevert):
    """The entry is not in a state that allows the change (suspend a revoked one...)."""

    http_status = 409
    solidity_errors = (
        "Whitelist__UnknownTrader", "Whitelist__EntryRevoked", "Whitelist__NotActive",
        "Whitelist__NotSuspended", "Whitelist__NotDishonest",
    )


class RelayedSignatureError(_WhitelistRevert):
    """A relayed write's signature is forged, expired or already used."""

    http_status = 401
    solidity_errors = ("Whitelist__InvalidSignature", "Whitelist__SignatureExpired", "Whitelist__InvalidNonce")


def _explain(name: str, args: dict[str, Any]) -> str:
    uscc = _uscc(args)
    match name:
        case "Whitelist__InvalidUscc":
            return f"uscc: the contract refused {uscc!r}: not a valid USCC"
        case "Whitelist__InvalidLevel":
            return f"level: the credit level of {uscc} must be ADVANCED_CERTIFIED, GENERAL or DISHONEST"
        case "Whitelist__InvalidValidity":
            return f"valid_until: must be after valid_from ({args['validUntil']} <= {args['validFrom']}) for {uscc}"
        case "Whitelist__ZeroDossierHash":
            return f"dossier: the dossier hash of {uscc} is zero; every decision rests on evidence"
        case "Whitelist__DishonestWithScopes":
            return f"scope: a DISHONEST trader can hold no scope ({uscc} was given scope bits {args['scopes']:#x})"
        case "Whitelist__InvalidRepairLevel":
            return f"level: credit repair of {uscc} must restore GENERAL or ADVANCED_CERTIFIED, not {_LEVELS.get(args['level'])}"
        case "Whitelist__InvalidReasonLength":
            return f"reason: must be 1 to 256 bytes, got {args['length']}"
        case "Whitelist__EmptyBatch":
            return "entries: a batch needs at least one entry"
        case "Whitelist__UnknownTrader":
            return f"uscc: {uscc} is not on the whitelist"
        case "Whitelist__EntryRevoked":
            return f"uscc: the entry of {uscc} is revoked; list it again with `whitelist set` to change it"
        case "Whitelist__NotActive":
            return f"uscc: only an active entry can be suspended; {uscc} is {_STATUSES.get(args['status'])}"
        case "Whitelist__NotSuspended":
            return f"uscc: {uscc} is {_STATUSES.get(args['status'])}, not suspended; there is no suspension to lift"
        case "Whitelist__NotDishonest":
            return f"uscc: credit repair is for DISHONEST traders; {uscc} is {_LEVELS.get(args['level'])}"
        case "Whitelist__InvalidSignature":
            recovered = args.get("recovered")
            by = "is malformed" if int(recovered or "0x0", 16) == 0 else f"was made by {recovered}"
            return f"signature: not a signature by officer {args['officer']} over this request (it {by})"
        case "Whitelist__SignatureExpired":
            return f"signature: expired (deadline {args['deadline']}, block time {args['now']}); sign again"
        case "Whitelist__InvalidNonce":
            return (f"nonce: officer {args['officer']}'s next nonce is {args['expected']}, the signature carries "
                    f"{args['provided']} (already used, i.e. a replay, or signed out of order)")
    return f"contract refused the call: {name}"
