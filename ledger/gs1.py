"""GS1 keys: the mod-10 check digit shared by GLN, GTIN and SSCC."""

from __future__ import annotations

from ledger.errors import LedgerError


class GS1KeyError(LedgerError):
    """A GS1 key (GLN, GTIN...) is malformed or its check digit is wrong."""


def check_digit(body: str) -> int:
    """Check digit for the digits of ``body`` (the key without its last digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gln(gln: str, *, field: str = "gln") -> str:
    """Return ``gln`` if it is 13 digits with a correct check digit."""
    if len(gln) != 13 or not gln.isdigit():
        raise GS1KeyError(f"{field}: a GLN is 13 digits, got {gln!r}")
    expected = check_digit(gln[:-1])
    if int(gln[-1]) != expected:
        raise GS1KeyError(f"{field}: GLN {gln} has check digit {gln[-1]}, expected {expected}")
    return gln


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))
