"""The trader whitelist contract, from Python: reads pinned to a block, direct
writes by a CUSTOMS key, and relayed writes signed by an officer (EIP-712).

Every read that answers a user names the block it was read at: the latest
block is fetched first, then the view is called at that block number, so the
answer and its ``blockNumber``/``blockHash`` always belong together.

Relayed writes: the officer signs typed data (domain ``TraderWhitelist`` /
``1`` / chain id / contract address; types in :data:`TYPES`) with their own
key, offline; anyone holding a funded key (the service key) submits it. The
contract checks deadline, nonce, signature and the officer's CUSTOMS role.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

import ledger.whitelist.errors  # noqa: F401  (registers the contract's revert errors)
from ledger.chain.artifacts import load_artifact
from ledger.chain.base import Chain
from ledger.errors import ChainError
from ledger.whitelist.errors import TraderNotFoundError, WhitelistInputError
from ledger.whitelist.model import (
    VERDICT_STATUS,
    CreditLevel,
    Entry,
    EntryContent,
    Verdict,
    check_reason,
    iso,
    scope_names,
)
from ledger.whitelist.uscc import to_bytes18, validate_uscc

CONTRACT_NAME = "TraderWhitelist"
DOMAIN_NAME = "TraderWhitelist"
DOMAIN_VERSION = "1"
READ_CHUNK = 500
"""Entries per ``getEntries`` call when comparing a whole list against the chain."""

TYPES: dict[str, list[dict[str, str]]] = {
    "SetEntry": [
        {"name": "uscc", "type": "bytes18"}, {"name": "level", "type": "uint8"}, {"name": "scopes", "type": "uint256"},
        {"name": "validFrom", "type": "uint64"}, {"name": "validUntil", "type": "uint64"},
        {"name": "dossierHash", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "SuspendEntry": [
        {"name": "uscc", "type": "bytes18"}, {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "LiftSuspension": [
        {"name": "uscc", "type": "bytes18"}, {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "RevokeEntry": [
        {"name": "uscc", "type": "bytes18"}, {"name": "reason", "type": "string"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "RepairCredit": [
        {"name": "uscc", "type": "bytes18"}, {"name": "level", "type": "uint8"},
        {"name": "dossierHash", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}
"""EIP-712 types of the relayed writes, exactly as the contract hashes them."""

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True)
class BlockRef:
    """The block a read was made at."""

    number: int
    hash: str
    timestamp: int

    def to_json(self) -> dict[str, Any]:
        return {"blockNumber": self.number, "blockHash": self.hash, "blockTime": iso(self.timestamp)}


@dataclass(frozen=True)
class CheckResult:
    """The contract's verdict on one trader for some scopes at a time, and the block it was read at."""

    uscc: str
    verdict: Verdict
    entry: Entry
    required_scopes: int
    at: int
    block: BlockRef

    @property
    def allowed(self) -> bool:
        return self.verdict == Verdict.ALLOWED

    @property
    def status(self) -> str:
        return VERDICT_STATUS[self.verdict]

    @property
    def reason(self) -> str:
        e = self.entry
        required = ", ".join(scope_names(self.required_scopes)) or "no particular scope"
        match self.verdict:
            case Verdict.UNKNOWN:
                return f"{self.uscc} is not on the whitelist"
            case Verdict.REVOKED:
                return f"the entry was revoked (version {e.version}, block {e.updated_at_block}): {e.status_reason}"
            case Verdict.SUSPENDED:
                return f"the entry is suspended: {e.status_reason}"
            case Verdict.DISHONEST:
                return "credit level DISHONEST: the trader holds no scope"
            case Verdict.NOT_YET_VALID:
                return f"the entry is valid from {iso(e.valid_from)}, after {iso(self.at)}"
            case Verdict.EXPIRED:
                return f"the entry expired at {iso(e.valid_until)}, before {iso(self.at)}"
            case Verdict.SCOPE_NOT_HELD:
                held = ", ".join(scope_names(e.scopes)) or "no scope"
                missing = ", ".join(scope_names(self.required_scopes & ~e.scopes))
                return f"the trader holds {held}, not {missing}"
        return (f"{e.level.name} trader, valid {iso(e.valid_from)} to {iso(e.valid_until)}, "
                f"holds {', '.join(scope_names(e.scopes)) or 'no scope'}; {required} allowed")

    def to_json(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "allowed": self.allowed,
            "status": self.status,
            "reason": self.reason,
            "scopes": scope_names(self.required_scopes),
            "at": iso(self.at),
            "atUnix": self.at,
            **self.block.to_json(),
            "entry": self.entry.to_json() if self.entry.listed else None,
        }


@dataclass
class SignedRequest:
    """A write signed by an officer, ready for any relayer to submit."""

    action: str  # a key of TYPES
    message: dict[str, Any]  # the typed-data message, nonce and deadline included
    officer: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        rendered = {k: ("0x" + v.hex() if isinstance(v, (bytes, bytearray)) else v) for k, v in self.message.items()}
        return {"action": self.action, "message": rendered, "officer": self.officer,
                "signature": "0x" + self.signature.hex()}

    @property
    def uscc(self) -> str:
        return bytes(self.message["uscc"]).decode("ascii")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedRequest:
        """Parse a request as :meth:`to_json` writes it (or a wallet's typed-data message); every field
        is checked, so a malformed request is a 400 naming the field, before anything is sent."""
        action = data.get("action")
        if action not in TYPES:
            raise WhitelistInputError("action", f"must be one of {', '.join(TYPES)}, got {action!r}")
        raw = data.get("message")
        if not isinstance(raw, dict):
            raise WhitelistInputError("message", "must be an object with the typed-data fields")
        message: dict[str, Any] = {}
        for item in TYPES[action]:
            name, kind = item["name"], item["type"]
            if name not in raw:
                raise WhitelistInputError(f"message.{name}", "is missing")
            message[name] = _typed_value(f"message.{name}", kind, raw[name])
        validate_uscc(message["uscc"].decode("ascii", "replace"), field="message.uscc")
        if "reason" in message:
            check_reason(message["reason"], field="message.reason")
        officer = data.get("officer")
        if not isinstance(officer, str) or not Web3.is_address(officer):
            raise WhitelistInputError("officer", f"{officer!r} is not an address")
        signature = _hex_bytes("signature", data.get("signature"))
        if len(signature) != 65:
            raise WhitelistInputError("signature", f"must be 65 bytes (r, s, v), got {len(signature)}")
        return cls(action, message, Web3.to_checksum_address(officer), signature)


def _hex_bytes(field: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise WhitelistInputError(field, "must be a 0x-prefixed hex string")
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise WhitelistInputError(field, f"{value!r} is not hex") from None


def _typed_value(field: str, kind: str, value: Any) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise WhitelistInputError(field, "must be a string")
        return value
    if kind.startswith("bytes"):
        size = int(kind[5:])
        if kind == "bytes18" and isinstance(value, str) and len(value) == 18 and not value.startswith("0x"):
            return value.encode("ascii")  # a USCC given as text
        raw = _hex_bytes(field, value)
        if len(raw) != size:
            raise WhitelistInputError(field, f"must be {size} bytes, got {len(raw)}")
        return raw
    bits = int(kind[4:])
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise WhitelistInputError(field, f"{value!r} is not an integer") from None
    if isinstance(value, bool) or not 0 <= number < 2**bits:
        raise WhitelistInputError(field, f"must be an unsigned {bits}-bit integer")
    return number


@dataclass
class Whitelist:
    """One deployed TraderWhitelist on one chain."""

    chain: Chain
    contract: Contract
    _domain: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def from_ledger(cls, ledger: Any) -> Whitelist:
        return cls(ledger.chain, ledger.contract(CONTRACT_NAME))

    @property
    def address(self) -> str:
        return self.contract.address

    # -- reads -----------------------------------------------------------

    def latest_block(self) -> BlockRef:
        if self.chain.kind == "rpc":
            raw = self._rpc("eth_getBlockByNumber", ["latest", False])
            return BlockRef(number=int(raw["number"], 16), hash=raw["hash"], timestamp=int(raw["timestamp"], 16))
        block = self.chain._guard(lambda: self.chain.w3.eth.get_block("latest"))
        return BlockRef(number=block["number"], hash="0x" + bytes(block["hash"]).hex(), timestamp=block["timestamp"])

    def _rpc(self, method: str, params: list[Any]) -> Any:
        """One raw JSON-RPC request, past web3's middleware (the check path is hot: web3's
        validation asks the node for its chain id on every request)."""
        response = self.chain._guard(lambda: self.chain.w3.provider.make_request(method, params))
        if "error" in response:
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ChainError(f"{self.chain.description} answered {method} with an error: {message}")
        return response["result"]

    def entry(self, uscc: str, block: int | str = "latest") -> Entry:
        code = validate_uscc(uscc)
        return Entry.from_abi(self.chain.call(self.contract.functions.getEntry(code.encode("ascii")), block), code)

    def entry_at_latest(self, uscc: str) -> tuple[Entry, BlockRef]:
        """The entry (raises TraderNotFoundError if never listed) and the block it was read at."""
        code = validate_uscc(uscc)
        block = self.latest_block()
        entry = self.entry(code, block.number)
        if not entry.listed:
            raise TraderNotFoundError(code, block.number)
        return entry, block

    def entries(self, usccs: Sequence[str], block: int | str = "latest") -> list[Entry]:
        """Entries of many traders (``getEntries`` in chunks), all read at ``block``."""
        found: list[Entry] = []
        for start in range(0, len(usccs), READ_CHUNK):
            chunk = [validate_uscc(u) for u in usccs[start:start + READ_CHUNK]]
            raw = self.chain.call(self.contract.functions.getEntries([c.encode("ascii") for c in chunk]), block)
            found.extend(Entry.from_abi(r, c) for r, c in zip(raw, chunk, strict=True))
        return found

    def check(self, uscc: str, required_scopes: int = 0, at: int | None = None) -> CheckResult:
        """The contract's verdict (``checkTrader``) at the latest block; ``at`` defaults to now."""
        code = validate_uscc(uscc)
        moment = int(time.time()) if at is None else at
        block = self.latest_block()
        if self.chain.kind == "rpc":
            call = check_call(self.address, code, required_scopes, moment, block.number)
            return check_result(self._rpc("eth_call", call), code, required_scopes, moment, block)
        fn = self.contract.functions.checkTrader(code.encode("ascii"), required_scopes, moment)
        verdict, raw = self.chain.call(fn, block.number)
        return CheckResult(code, Verdict(verdict), Entry.from_abi(raw, code), required_scopes, moment, block)

    def nonce(self, officer: str) -> int:
        return self.chain.call(self.contract.functions.nonces(Web3.to_checksum_address(officer)))

    # -- direct writes (sender holds CUSTOMS) ---------------------------

    def set_entry(self, content: EntryContent, *, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(self.contract.functions.setEntry(content.as_input()), sender=sender)

    def send_entries(self, contents: Sequence[EntryContent], *, sender: LocalAccount, gas: int | None = None) -> HexBytes:
        """Send one ``setEntries`` transaction without waiting (the importer pipelines them)."""
        if not contents:
            raise WhitelistInputError("entries", "a batch needs at least one entry")
        return self.chain.send(self.contract.functions.setEntries([c.as_input() for c in contents]), sender=sender, gas=gas)

    def suspend(self, uscc: str, reason: str, *, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(self.contract.functions.suspendEntry(to_bytes18(uscc), check_reason(reason)), sender=sender)

    def lift_suspension(self, uscc: str, reason: str, *, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(self.contract.functions.liftSuspension(to_bytes18(uscc), check_reason(reason)), sender=sender)

    def revoke(self, uscc: str, reason: str, *, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(self.contract.functions.revokeEntry(to_bytes18(uscc), check_reason(reason)), sender=sender)

    def repair_credit(self, uscc: str, level: CreditLevel, dossier_hash: bytes, *, sender: LocalAccount) -> TxReceipt:
        _check_repair(level, dossier_hash)
        return self.chain.transact(
            self.contract.functions.repairCredit(to_bytes18(uscc), int(level), dossier_hash), sender=sender)

    # -- relayed writes (officer signs, anyone submits) ------------------

    def domain(self) -> dict[str, Any]:
        if self._domain is None:
            self._domain = {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": self.chain.chain_id,
                            "verifyingContract": self.address}
        return self._domain

    def typed_data(self, action: str, message: dict[str, Any]) -> dict[str, Any]:
        """The full EIP-712 document an officer signs (what a wallet shows)."""
        if action not in TYPES:
            raise WhitelistInputError("action", f"unknown action {action!r}; known: {', '.join(TYPES)}")
        return {"types": {"EIP712Domain": _DOMAIN_TYPE, action: TYPES[action]}, "primaryType": action,
                "domain": self.domain(), "message": message}

    def sign(self, action: str, params: dict[str, Any], officer: LocalAccount, *,
             nonce: int | None = None, deadline: int | None = None, valid_for: int = 3600) -> SignedRequest:
        """Sign ``action`` with ``params`` as ``officer``: nonce from the chain unless given,
        deadline ``valid_for`` seconds from now unless given."""
        message = dict(params)
        message["nonce"] = self.nonce(officer.address) if nonce is None else nonce
        message["deadline"] = int(time.time()) + valid_for if deadline is None else deadline
        signable = encode_typed_data(full_message=self.typed_data(action, message))
        signature = bytes(Account.sign_message(signable, officer.key).signature)
        return SignedRequest(action, message, officer.address, signature)

    def relay(self, request: SignedRequest, *, relayer: LocalAccount) -> TxReceipt:
        """Submit a signed request; the contract checks it (a forged, expired or replayed one reverts)."""
        m, f = request.message, self.contract.functions
        officer = Web3.to_checksum_address(request.officer)
        tail = (officer, m["nonce"], m["deadline"], request.signature)
        match request.action:
            case "SetEntry":
                content = (m["uscc"], m["level"], m["scopes"], m["validFrom"], m["validUntil"], m["dossierHash"])
                fn = f.setEntryWithSig(content, *tail)
            case "SuspendEntry":
                fn = f.suspendEntryWithSig(m["uscc"], m["reason"], *tail)
            case "LiftSuspension":
                fn = f.liftSuspensionWithSig(m["uscc"], m["reason"], *tail)
            case "RevokeEntry":
                fn = f.revokeEntryWithSig(m["uscc"], m["reason"], *tail)
            case "RepairCredit":
                fn = f.repairCreditWithSig(m["uscc"], m["level"], m["dossierHash"], *tail)
            case _:
                raise WhitelistInputError("action", f"unknown action {request.action!r}; known: {', '.join(TYPES)}")
        return self.chain.transact(fn, sender=relayer)

    # -- one entry point for the CLI: direct or relayed ------------------

    def write(self, action: str, params: dict[str, Any], *, sender: LocalAccount,
              officer: LocalAccount | None = None) -> TxReceipt:
        """Perform ``action``: sent by ``sender`` itself, or, with ``officer``, signed by the
        officer and relayed by ``sender``."""
        if officer is not None:
            return self.relay(self.sign(action, params, officer), relayer=sender)
        f = self.contract.functions
        match action:
            case "SetEntry":
                fn = f.setEntry((params["uscc"], params["level"], params["scopes"], params["validFrom"],
                                 params["validUntil"], params["dossierHash"]))
            case "SuspendEntry":
                fn = f.suspendEntry(params["uscc"], params["reason"])
            case "LiftSuspension":
                fn = f.liftSuspension(params["uscc"], params["reason"])
            case "RevokeEntry":
                fn = f.revokeEntry(params["uscc"], params["reason"])
            case "RepairCredit":
                fn = f.repairCredit(params["uscc"], params["level"], params["dossierHash"])
            case _:
                raise WhitelistInputError("action", f"unknown action {action!r}; known: {', '.join(TYPES)}")
        return self.chain.transact(fn, sender=sender)


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return param["type"]


@cache
def _check_codec() -> tuple[bytes, list[str], list[str]]:
    """Selector, input and output types of ``checkTrader`` (from the committed ABI)."""
    [fn] = [item for item in load_artifact(CONTRACT_NAME).abi if item.get("name") == "checkTrader"]
    inputs = [_abi_type(p) for p in fn["inputs"]]
    outputs = [_abi_type(p) for p in fn["outputs"]]
    return function_signature_to_4byte_selector(f"checkTrader({','.join(inputs)})"), inputs, outputs


def check_call(address: str, code: str, required_scopes: int, at: int, block_number: int) -> list[Any]:
    """The ``eth_call`` parameters of ``checkTrader`` at a block (raw JSON-RPC)."""
    selector, inputs, _ = _check_codec()
    data = "0x" + (selector + abi_encode(inputs, (code.encode("ascii"), required_scopes, at))).hex()
    return [{"to": address, "data": data}, hex(block_number)]


def check_result(result: str, code: str, required_scopes: int, at: int, block: BlockRef) -> CheckResult:
    """Decode the raw answer of :func:`check_call`."""
    verdict, raw = abi_decode(_check_codec()[2], bytes.fromhex(result.removeprefix("0x")))
    return CheckResult(code, Verdict(verdict), Entry.from_abi(raw, code), required_scopes, at, block)


# -- parameters of each action, validated (nothing malformed reaches the chain) --

def set_params(content: EntryContent) -> dict[str, Any]:
    uscc, level, scopes, valid_from, valid_until, dossier = content.as_input()
    return {"uscc": uscc, "level": level, "scopes": scopes, "validFrom": valid_from, "validUntil": valid_until,
            "dossierHash": dossier}


def reason_params(uscc: str, reason: str) -> dict[str, Any]:
    return {"uscc": to_bytes18(uscc), "reason": check_reason(reason)}


def repair_params(uscc: str, level: CreditLevel, dossier_hash: bytes) -> dict[str, Any]:
    _check_repair(level, dossier_hash)
    return {"uscc": to_bytes18(uscc), "level": int(level), "dossierHash": dossier_hash}


def _check_repair(level: CreditLevel, dossier_hash: bytes) -> None:
    if level in (CreditLevel.NONE, CreditLevel.DISHONEST):
        raise WhitelistInputError("level", "credit repair restores GENERAL or ADVANCED_CERTIFIED")
    if len(dossier_hash) != 32 or dossier_hash == bytes(32):
        raise WhitelistInputError("dossier", "the dossier hash must be 32 bytes and not zero")

