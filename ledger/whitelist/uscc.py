"""The unified social credit code (USCC) of GB 32100-2015, the whitelist's trader key.

Eighteen characters from the alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY``
(no I, O, S, V, Z)::

    position 1      registration authority code
    position 2      institution type code
    positions 3-8   administrative division code (GB/T 2260, digits)
    positions 9-17  organisation code (GB 11714)
    position 18     check character

Check character: with ``v(c)`` the index of ``c`` in the alphabet and the
weights ``1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28``
(``3**i mod 31``) over positions 1-17, the check value is
``31 - (sum(v * w) mod 31)``, with 31 written as ``0``. The contract's
``USCC`` library applies the same rule; this module says *which* character is
wrong, so nothing malformed is ever sent.
"""

from __future__ import annotations

from ledger.errors import LedgerError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class UsccError(LedgerError):
    """A string is not a USCC; the message names the first bad character and its position."""

    http_status = 400

    def __init__(self, problem: str, *, field: str = "uscc") -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


def check_character(first17: str) -> str:
    """The check character of the first 17 characters (which must be in the alphabet)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(text: str, *, field: str = "uscc") -> str:
    """The canonical (upper-case, trimmed) USCC, or a :class:`UsccError` naming what is wrong."""
    if not isinstance(text, str):
        raise UsccError(f"expected a string of {LENGTH} characters", field=field)
    code = text.strip().upper()
    if len(code) != LENGTH:
        raise UsccError(f"must be {LENGTH} characters, got {len(code)} ({text.strip()!r})", field=field)
    for position, char in enumerate(code, start=1):
        if char not in _VALUE:
            shown = text.strip()[position - 1]
            hint = " (I, O, S, V and Z are never used)" if char in "IOSVZ" else ""
            raise UsccError(f"character {shown!r} at position {position} is not allowed{hint}", field=field)
        if 3 <= position <= 8 and not char.isdigit():
            raise UsccError(
                f"character {char!r} at position {position} is not allowed: positions 3-8 "
                "(administrative division code) are digits", field=field)
    expected = check_character(code[:17])
    if code[17] != expected:
        raise UsccError(f"check character is {code[17]!r}, expected {expected!r}", field=field)
    return code


def with_check_character(first17: str) -> str:
    """Complete 17 characters into a USCC (for tests and generated data)."""
    code = first17.strip().upper()
    if len(code) != 17:
        raise UsccError(f"need 17 characters to add a check character, got {len(code)}")
    return validate_uscc(code + check_character(code))


def to_bytes18(code: str) -> bytes:
    """The on-chain key: the 18 ASCII characters (a ``bytes18``)."""
    return validate_uscc(code).encode("ascii")


def from_bytes18(raw: bytes) -> str:
    """The USCC of an on-chain key."""
    return bytes(raw).rstrip(b"\0").decode("ascii")
