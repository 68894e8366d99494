"""Errors of recalls and pack status.

Importing this module registers the contract's custom errors with
:func:`ledger.chain.reverts.decode_revert`, so a revert raises one of the
typed classes below with a one-line message that says what to do.
"""

from __future__ import annotations

from typing import Any

from ledger.chain.reverts import ContractRevertError, UnauthorizedError
from ledger.errors import InputError

_PACK = {0: "in the supply chain", 1: "dispensed", 2: "reported stolen", 3: "destroyed"}


class StatusInputError(InputError):
    """An argument is malformed; nothing was sent. ``field`` names the argument."""


class StatusUnauthorizedError(UnauthorizedError):
    """The sending key may not make this change."""

    http_status = 403
    solidity_errors = ("Status__Unauthorized", "Status__NotLotOwner")

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        if error_name == "Status__NotLotOwner":
            owner = args.get("owner") or b""
            whose = "nobody registered it as a lot" if not any(owner) else f"it is a lot of participant 0x{owner.hex()}"
            message = (f"key {args.get('account')} may not recall this: only a regulator or the producer that "
                       f"registered the lot may ({whose})")
        else:
            from ledger.participants.roles import ROLE_BY_ID

            role = ROLE_BY_ID.get(bytes(args.get("role", b"")), "the required role")
            message = f"key {args.get('account')} does not hold {role} actively in the participant registry"
        super().__init__(error_name, args, message)


class StatusStateError(ContractRevertError):
    """The subject is not in a state that allows the change: the message says which."""

    http_status = 409
    solidity_errors = (
        "Status__AlreadyRegistered", "Status__AlreadyRecalled", "Status__NotRecalled",
        "Status__AlreadyDecommissioned",
    )

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        match error_name:
            case "Status__AlreadyRegistered":
                message = f"key: already registered as a lot of participant 0x{bytes(args['owner']).hex()}"
            case "Status__AlreadyRecalled":
                message = "key: already recalled; the recall is in force"
            case "Status__NotRecalled":
                message = "key: not recalled; there is no recall to withdraw"
            case _:
                message = (f"key: this pack was already {_PACK.get(int(args['status']), 'decommissioned')}: "
                           "it must not be dispensed or sold (possible counterfeit or diversion)")
        super().__init__(error_name, args, message)


class StatusRefusedError(ContractRevertError):
    """The contract refused the content (it re-checks what the Python side checks first)."""

    http_status = 400
    solidity_errors = ("Status__InvalidStatus", "Status__InvalidKey", "Status__InvalidNotice")
