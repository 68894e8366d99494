"""Turn a contract's revert data into a typed Python error.

Every custom error in the committed ABIs is known by its 4-byte selector.
Domain modules subclass :class:`ContractRevertError` and name the Solidity
errors they stand for; a revert then raises that subclass, with the error's
arguments decoded, instead of an opaque hex string.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes

from ledger.chain.artifacts import all_artifacts
from ledger.errors import ChainError

_PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


class ContractRevertError(ChainError):
    """A contract refused a call; ``error_name`` and ``args`` say why.

    Subclasses list the Solidity error names they represent in
    ``solidity_errors``; the most specific registered class is raised.
    """

    http_status = 409
    solidity_errors: ClassVar[tuple[str, ...]] = ()
    _registry: ClassVar[dict[str, type[ContractRevertError]]] = {}

    def __init__(self, error_name: str, args: dict[str, Any], message: str | None = None) -> None:
        self.error_name = error_name
        self.args_by_name = args
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in args.items())
        super().__init__(message or f"contract refused the call: {error_name}({rendered})")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.solidity_errors:
            ContractRevertError._registry[name] = cls


class UnauthorizedError(ContractRevertError):
    """The sending key lacks the on-chain role the call needs."""

    http_status = 403
    solidity_errors = (
        "AccessControlUnauthorizedAccount",
        "Registry__Unauthorized",
        "Registry__UnknownKey",
        "Registry__KeyRevoked",
        "Registry__ParticipantSuspended",
        "Anchor__Unauthorized",
    )


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


@cache
def _errors_by_selector() -> dict[bytes, tuple[str, list[str], list[str]]]:
    known: dict[bytes, tuple[str, list[str], list[str]]] = {
        bytes.fromhex("08c379a0"): ("Error", ["string"], ["reason"]),
        bytes.fromhex("4e487b71"): ("Panic", ["uint256"], ["code"]),
    }
    for artifact in all_artifacts():
        for item in artifact.abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(p) for p in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            known[selector] = (item["name"], types, [p["name"] or f"arg{i}" for i, p in enumerate(item["inputs"])])
    return known


def decode_revert(data: bytes | str | None) -> ContractRevertError:
    """Build the typed error for raw revert ``data`` (selector + ABI-encoded args)."""
    raw = HexBytes(data or b"")
    if len(raw) < 4:
        return ContractRevertError("Revert", {}, "contract reverted without a reason (out of gas, or a require with no message)")
    known = _errors_by_selector().get(bytes(raw[:4]))
    if known is None:
        return ContractRevertError("Unknown", {"data": bytes(raw)}, f"contract reverted with an unknown error 0x{raw.hex()} (artifacts out of date?)")
    name, types, names = known
    values = abi_decode(types, bytes(raw[4:]))
    args = dict(zip(names, values))
    if name == "Error":
        return ContractRevertError(name, args, f"contract reverted: {args['reason']}")
    if name == "Panic":
        reason = _PANIC_REASONS.get(args["code"], f"code {args['code']:#x}")
        return ContractRevertError(name, args, f"contract panicked: {reason}")
    cls = ContractRevertError._registry.get(name, ContractRevertError)
    return cls(name, args)
