"""The whitelist's vocabulary: credit levels, scopes, statuses, verdicts, entries.

Names are what users type and the API answers (``ADVANCED_CERTIFIED``,
``OFFSHORE_TRADE``, ``expired``); the numbers are the contract's enum values
and scope bits (``contracts/interfaces/ITraderWhitelist.sol``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from ledger.whitelist.errors import WhitelistInputError
from ledger.whitelist.uscc import from_bytes18


class CreditLevel(IntEnum):
    """The contract's ``CreditLevel`` (``NONE`` is never written)."""

    NONE = 0
    ADVANCED_CERTIFIED = 1  # AEO
    GENERAL = 2
    DISHONEST = 3


class EntryStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class Verdict(IntEnum):
    """The contract's ``Verdict``; :data:`VERDICT_STATUS` names each for the API."""

    ALLOWED = 0
    UNKNOWN = 1
    REVOKED = 2
    SUSPENDED = 3
    DISHONEST = 4
    NOT_YET_VALID = 5
    EXPIRED = 6
    SCOPE_NOT_HELD = 7


VERDICT_STATUS = {
    Verdict.ALLOWED: "allowed",
    Verdict.UNKNOWN: "unknown",
    Verdict.REVOKED: "revoked",
    Verdict.SUSPENDED: "suspended",
    Verdict.DISHONEST: "dishonest",
    Verdict.NOT_YET_VALID: "not_yet_valid",
    Verdict.EXPIRED: "expired",
    Verdict.SCOPE_NOT_HELD: "scope_not_held",
}

LEVEL_ALIASES = {"AEO": CreditLevel.ADVANCED_CERTIFIED, "ADVANCED": CreditLevel.ADVANCED_CERTIFIED}

SCOPES: dict[str, int] = {
    "OFFSHORE_TRADE": 1 << 0,
    "EXPEDITED_CLEARANCE": 1 << 1,
}
"""Scope name -> bit. The contract accepts any bit; only these have names (add new ones here)."""

MAX_REASON_BYTES = 256


def parse_level(text: str | int | CreditLevel, *, field: str = "level", allow_dishonest: bool = True) -> CreditLevel:
    if isinstance(text, CreditLevel):
        level = text
    else:
        name = str(text).strip().upper().replace("-", "_").replace(" ", "_")
        level = LEVEL_ALIASES.get(name) or CreditLevel.__members__.get(name)  # type: ignore[assignment]
        if level is None or level == CreditLevel.NONE:
            known = ", ".join(m.name for m in CreditLevel if m != CreditLevel.NONE)
            raise WhitelistInputError(field, f"unknown credit level {str(text)!r}; known: {known} (AEO = ADVANCED_CERTIFIED)")
    if level == CreditLevel.DISHONEST and not allow_dishonest:
        raise WhitelistInputError(field, "credit repair restores GENERAL or ADVANCED_CERTIFIED, not DISHONEST")
    return level


def parse_scopes(names: Iterable[str], *, field: str = "scope") -> int:
    """A scope bit set from names (each may itself be a ``|``, ``,`` or ``;``-separated list)."""
    mask = 0
    for item in names:
        for name in re.split(r"[|,;\s]+", str(item).strip()):
            if not name:
                continue
            bit = SCOPES.get(name.upper())
            if bit is None:
                raise WhitelistInputError(field, f"unknown scope {name!r}; known: {', '.join(SCOPES)}")
            mask |= bit
    return mask


def scope_names(mask: int) -> list[str]:
    """Names of the bits set in ``mask``; an unnamed bit shows as ``BIT_<n>``."""
    names = [name for name, bit in SCOPES.items() if mask & bit]
    known = 0
    for bit in SCOPES.values():
        known |= bit
    rest, position = mask & ~known, 0
    while rest:
        if rest & 1:
            names.append(f"BIT_{position}")
        rest >>= 1
        position += 1
    return names


MAX_UNIX_SECONDS = 253_402_300_799
"""9999-12-31T23:59:59Z: the last moment a date can name (later ones cannot even be printed as ISO 8601)."""


def parse_time(value: str | float | datetime, *, field: str) -> int:
    """Unix seconds from unix seconds (int or digits) or an ISO 8601 date/time (UTC if no offset)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = int(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d+", text):
            seconds = int(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            except ValueError:
                raise WhitelistInputError(field, f"{text!r} is neither unix seconds nor an ISO 8601 time "
                                                 "(e.g. 2026-01-31 or 2026-01-31T08:00:00+08:00)") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            seconds = int(moment.timestamp())
    if not 0 <= seconds <= MAX_UNIX_SECONDS:
        raise WhitelistInputError(field, f"{value!r} is out of range: unix seconds from 0 to {MAX_UNIX_SECONDS} "
                                         "(9999-12-31T23:59:59Z)")
    return seconds


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def check_reason(reason: str, *, field: str = "reason") -> str:
    text = reason.strip()
    size = len(text.encode("utf-8"))
    if not 1 <= size <= MAX_REASON_BYTES:
        raise WhitelistInputError(field, f"must be 1 to {MAX_REASON_BYTES} bytes of UTF-8, got {size}")
    return text


@dataclass(frozen=True)
class EntryContent:
    """What an officer writes for one trader (the contract's ``EntryInput``)."""

    uscc: str
    level: CreditLevel
    scopes: int
    valid_from: int
    valid_until: int
    dossier_hash: bytes

    def __post_init__(self) -> None:
        if self.level == CreditLevel.DISHONEST and self.scopes:
            raise WhitelistInputError(
                "scope", f"a DISHONEST trader can hold no scope ({self.uscc} was given {', '.join(scope_names(self.scopes))})")
        if self.valid_from >= self.valid_until:
            raise WhitelistInputError(
                "valid_until", f"must be after valid_from ({iso(self.valid_until)} is not after {iso(self.valid_from)})")
        if len(self.dossier_hash) != 32 or self.dossier_hash == bytes(32):
            raise WhitelistInputError("dossier", "the dossier hash must be 32 bytes and not zero")

    def as_input(self) -> tuple:
        """The ABI tuple of ``EntryInput``."""
        return (self.uscc.encode("ascii"), int(self.level), self.scopes, self.valid_from, self.valid_until, self.dossier_hash)


@dataclass(frozen=True)
class Entry:
    """An entry as the chain holds it (``getEntry``)."""

    uscc: str
    level: CreditLevel
    status: EntryStatus
    scopes: int
    valid_from: int
    valid_until: int
    dossier_hash: bytes
    version: int
    updated_at_block: int
    status_reason: str

    @classmethod
    def from_abi(cls, raw: tuple, uscc: str | None = None) -> Entry:
        key, level, status, scopes, valid_from, valid_until, dossier, version, block, reason = raw
        return cls(
            uscc=uscc or from_bytes18(key), level=CreditLevel(level), status=EntryStatus(status), scopes=scopes,
            valid_from=valid_from, valid_until=valid_until, dossier_hash=bytes(dossier), version=version,
            updated_at_block=block, status_reason=reason,
        )

    @property
    def listed(self) -> bool:
        return self.status != EntryStatus.NONE

    def same_content(self, content: EntryContent) -> bool:
        """Whether writing ``content`` would change nothing but the version (an import skips it)."""
        return (
            self.status in (EntryStatus.ACTIVE, EntryStatus.SUSPENDED)
            and self.level == content.level and self.scopes == content.scopes
            and self.valid_from == content.valid_from and self.valid_until == content.valid_until
            and self.dossier_hash == content.dossier_hash
        )

    def to_json(self) -> dict:
        return {
            "uscc": self.uscc,
            "level": self.level.name,
            "status": self.status.name.lower(),
            "scopes": scope_names(self.scopes),
            "scopeBits": self.scopes,
            "validFrom": iso(self.valid_from),
            "validUntil": iso(self.valid_until),
            "validFromUnix": self.valid_from,
            "validUntilUnix": self.valid_until,
            "dossierHash": "0x" + self.dossier_hash.hex(),
            "version": self.version,
            "updatedAtBlock": self.updated_at_block,
            "statusReason": self.status_reason or None,
        }

