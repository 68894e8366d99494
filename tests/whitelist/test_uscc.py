"""USCC validation (GB 32100-2015): real codes pass, and every malformed code
is refused with a message naming the character and its position."""

from __future__ import annotations

import pytest

from ledger.whitelist.errors import WhitelistInputError
from ledger.whitelist.model import parse_scopes, parse_time, scope_names
from ledger.whitelist.uscc import UsccError, check_character, validate_uscc, with_check_character
from tests.whitelist.conftest import REAL_USCCS


@pytest.mark.parametrize("code", REAL_USCCS)
def test_published_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert check_character(code[:17]) == code[17]


def test_computed_codes() -> None:
    # 9135020000000000 1: values 9,1,3,5,0,2,0,...,0,1 weighted by 1,3,9,27,19,26,...,28:
    # 9 + 3 + 27 + 135 + 52 + 28 = 254; 254 mod 31 = 6; 31 - 6 = 25 -> 'R'.
    assert with_check_character("91350200000000001") == "91350200000000001R"
    # ...0003: 9 + 3 + 27 + 135 + 52 + 3 * 28 = 310 = 10 * 31, so 31 - 0 = 31, written '0'.
    assert with_check_character("91350200000000003") == "913502000000000030"
    assert validate_uscc("91310115MA1K4HX7LN") == "91310115MA1K4HX7LN"  # letters in the organisation code


@pytest.mark.parametrize(("code", "message"), [
    ("91350200I76049653A", "uscc: character 'I' at position 9 is not allowed (I, O, S, V and Z are never used)"),
    ("9135020077604O653A", "uscc: character 'O' at position 14 is not allowed"),
    ("91350200776049653Z", "uscc: character 'Z' at position 18 is not allowed"),
    ("91350200776049653B", "uscc: check character is 'B', expected 'A'"),
    ("91A50200776049653A", "uscc: character 'A' at position 3 is not allowed: positions 3-8 (administrative division code) are digits"),
    ("9135020077604965", "uscc: must be 18 characters, got 16"),
    ("91350200-76049653A", "uscc: character '-' at position 9 is not allowed"),
])
def test_malformed_codes_name_the_problem(code: str, message: str) -> None:
    with pytest.raises(UsccError) as info:
        validate_uscc(code)
    assert info.value.message.startswith(message) and info.value.http_status == 400


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate_uscc("  91440101ma5cjq4n59 ") == "91440101MA5CJQ4N59"


def test_scopes_and_times() -> None:
    assert parse_scopes(["OFFSHORE_TRADE", "expedited_clearance"]) == 3
    assert parse_scopes(["OFFSHORE_TRADE|EXPEDITED_CLEARANCE"]) == 3 == parse_scopes(["offshore_trade, expedited_clearance"])
    assert scope_names(3 | 1 << 7) == ["OFFSHORE_TRADE", "EXPEDITED_CLEARANCE", "BIT_7"]
    with pytest.raises(WhitelistInputError, match="scope: unknown scope 'FAST_LANE'; known: OFFSHORE_TRADE, EXPEDITED_CLEARANCE"):
        parse_scopes(["FAST_LANE"])
    assert parse_time("1767225600", field="at") == 1767225600
    assert parse_time("2026-01-01", field="at") == 1767225600
    assert parse_time("2026-01-01T08:00:00+08:00", field="at") == 1767225600
    assert parse_time("2026-01-01T00:00:00Z", field="at") == 1767225600
    with pytest.raises(WhitelistInputError, match="at: 'tomorrow' is neither unix seconds nor an ISO 8601 time"):
        parse_time("tomorrow", field="at")
