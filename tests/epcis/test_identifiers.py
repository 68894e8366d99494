"""EPC URNs and GS1 Digital Link URIs: equivalence, canonical keys, every rejection."""

from __future__ import annotations

from datetime import date

import pytest
from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin
from hypothesis import given
from hypothesis import strategies as st

from ledger.epcis.errors import EPCISError, InvalidIdentifierError
from ledger.epcis.identifiers import parse_digital_link, parse_epc
from ledger.errors import LedgerError

GTIN = "09521234543213"  # company prefix 9521234, indicator 0, item reference 54321


# --- the same object, however it is spelt ------------------------------------------

EQUIVALENT_SPELLINGS = [
    pytest.param(
        "/01/09521234543213/21/ABC",
        [
            "urn:epc:id:sgtin:9521234.054321.ABC",
            "https://id.gs1.org/01/09521234543213/21/ABC",
            "http://brand.example/products/01/09521234543213/21/ABC?linkType=gs1:pip",
            "https://id.gs1.org/01/9521234543213/21/ABC",  # GTIN-13, padded to 14
            "https://id.gs1.org/01/09521234543213/10/LOT-7/21/ABC?17=270101",  # lot left out of the key
            "/01/09521234543213/21/ABC",
        ],
        id="sgtin",
    ),
    pytest.param(
        "/01/09521234543213/21/A%2FB.C%3AD",
        ["urn:epc:id:sgtin:9521234.054321.A%2FB.C:D", "https://id.gs1.org/01/09521234543213/21/A%2FB.C%3AD"],
        id="sgtin-escaped-serial",
    ),
    pytest.param(
        "/01/09521234543213/10/LOT-7",
        ["urn:epc:class:lgtin:9521234.054321.LOT-7", "https://id.gs1.org/01/09521234543213/10/LOT-7"],
        id="lgtin",
    ),
    pytest.param(
        "/01/09521234543213",
        ["urn:epc:idpat:sgtin:9521234.054321.*", "https://id.gs1.org/01/09521234543213"],
        id="product-class",
    ),
    pytest.param(
        "/00/095212341234567891",
        ["urn:epc:id:sscc:9521234.0123456789", "https://id.gs1.org/00/095212341234567891"],
        id="sscc",
    ),
    pytest.param(
        "/414/9521234000013",
        ["urn:epc:id:sgln:9521234.00001.0", "https://id.gs1.org/414/9521234000013", "/414/9521234000013/254/0"],
        id="sgln-without-extension",
    ),
    pytest.param(
        "/414/9521234000013/254/DOCK-3",
        ["urn:epc:id:sgln:9521234.00001.DOCK-3", "https://id.gs1.org/414/9521234000013/254/DOCK-3"],
        id="sgln-with-extension",
    ),
    pytest.param(
        "/417/9521234000013",
        ["urn:epc:id:pgln:9521234.00001", "https://id.gs1.org/417/9521234000013"],
        id="pgln",
    ),
    pytest.param(
        "/8003/09521234000013CRATE1",
        ["urn:epc:id:grai:9521234.00001.CRATE1", "https://id.gs1.org/8003/09521234000013CRATE1"],
        id="grai",
    ),
    pytest.param(
        "/8004/9521234LOGGER-1",
        ["urn:epc:id:giai:9521234.LOGGER-1", "https://id.gs1.org/8004/9521234LOGGER-1"],
        id="giai",
    ),
    pytest.param(
        "/8018/952123412345678905",
        ["urn:epc:id:gsrn:9521234.1234567890", "https://id.gs1.org/8018/952123412345678905"],
        id="gsrn",
    ),
    pytest.param(
        "/8017/952123412345678905",
        ["urn:epc:id:gsrnp:9521234.1234567890", "https://id.gs1.org/8017/952123412345678905"],
        id="gsrnp",
    ),
    pytest.param(
        "/253/9521234000013EXP-42",
        ["urn:epc:id:gdti:9521234.00001.EXP-42", "https://id.gs1.org/253/9521234000013EXP-42"],
        id="gdti",
    ),
    pytest.param(
        "/255/9521234000013123",
        ["urn:epc:id:sgcn:9521234.00001.123", "https://id.gs1.org/255/9521234000013123"],
        id="sgcn",
    ),
    pytest.param(
        "/401/9521234CONS-1",
        ["urn:epc:id:ginc:9521234.CONS-1", "https://id.gs1.org/401/9521234CONS-1"],
        id="ginc",
    ),
    pytest.param(
        "/402/95212341234567891",
        ["urn:epc:id:gsin:9521234.123456789", "https://id.gs1.org/402/95212341234567891"],
        id="gsin",
    ),
]


@pytest.mark.parametrize(("canonical", "spellings"), EQUIVALENT_SPELLINGS)
def test_every_spelling_of_an_object_has_one_canonical_key(canonical: str, spellings: list[str]) -> None:
    parsed = [parse_epc(text) if not text.startswith("/") else parse_digital_link(text) for text in spellings]
    assert [identifier.canonical for identifier in parsed] == [canonical] * len(spellings)
    assert [identifier.uri for identifier in parsed] == spellings
    assert len(set(parsed)) == 1


def test_sgtin_urn_and_digital_link_carry_the_same_gtin_and_serial() -> None:
    urn = parse_epc("urn:epc:id:sgtin:9521234.054321.ABC")
    link = parse_epc("https://id.gs1.org/01/09521234543213/21/ABC")
    assert urn == link
    for identifier in (urn, link):
        assert (identifier.scheme, identifier.ai, identifier.key) == ("sgtin", "01", GTIN)
        assert (identifier.gtin, identifier.serial, identifier.lot, identifier.is_class) == (GTIN, "ABC", None, False)
        assert identifier.digital_link == "https://id.gs1.org/01/09521234543213/21/ABC"
    assert urn.company_prefix == "9521234"
    assert link.company_prefix is None


def test_indicator_digit_moves_to_the_front_of_the_gtin() -> None:
    case = parse_epc("urn:epc:id:sgtin:9521234.154321.7")
    assert case.gtin == "19521234543210"
    assert case.canonical == "/01/19521234543210/21/7"


def test_sscc_extension_digit_leads_the_key() -> None:
    pallet = parse_epc("urn:epc:id:sscc:9521234.3123456789")
    assert pallet.sscc == "395212341234567892"


def test_digital_link_keeps_lot_expiry_and_attributes_beside_the_key() -> None:
    pack = parse_digital_link(
        "https://pharma.example/dl/01/09521234543213/10/B-12/21/PK001?17=270131&3103=000195&linkType=all"
    )
    assert pack.canonical == "/01/09521234543213/21/PK001"
    assert (pack.lot, pack.serial, pack.expiry) == ("B-12", "PK001", date(2027, 1, 31))
    assert pack.attributes == (("17", "270131"), ("3103", "000195"))


def test_expiry_day_00_means_the_last_day_of_the_month() -> None:
    assert parse_digital_link("/01/09521234543213/10/L1?17=270200").expiry == date(2027, 2, 28)


def test_class_identifiers_are_marked_as_classes() -> None:
    assert parse_epc("urn:epc:class:lgtin:9521234.054321.L1").is_class
    assert parse_epc("urn:epc:idpat:sgtin:9521234.054321.*").scheme == "gtin"
    assert parse_digital_link("/01/09521234543213/22/RED").canonical == "/01/09521234543213/22/RED"
    assert parse_digital_link("/8003/09521234000013").is_class  # a GRAI without serial is an asset type
    assert not parse_digital_link("/8003/09521234000013X").is_class


def test_expectation_instance_or_class_is_enforced() -> None:
    assert parse_epc("urn:epc:class:lgtin:9521234.054321.L1", expect="class").lot == "L1"
    assert parse_epc("urn:epc:id:sscc:9521234.0123456789", expect="instance").sscc == "095212341234567891"
    with pytest.raises(InvalidIdentifierError) as error:
        parse_epc("urn:epc:class:lgtin:9521234.054321.L1", expect="instance")
    assert error.value.reason == (
        "identifies a class of objects (/01/09521234543213/10/L1), but a single object is needed here"
    )
    with pytest.raises(InvalidIdentifierError) as error:
        parse_epc("https://id.gs1.org/01/09521234543213/21/ABC", expect="class")
    assert error.value.reason.startswith(
        "identifies a single object (/01/09521234543213/21/ABC), but a class is needed"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/09521234543213/21/ABC",
        "https://shop.example/x/01/09521234543213/22/V1/10/L%2F1/21/S.1?17=270101&linkType=x",
        "https://id.gs1.org/00/095212341234567891",
        "https://id.gs1.org/414/9521234000013/254/12",
        "https://id.gs1.org/8003/09521234000013CRATE1",
    ],
)
def test_canonical_key_matches_biip_canonical_uri(uri: str) -> None:
    ours = parse_digital_link(uri)
    theirs = GS1DigitalLinkURI.parse(uri).as_canonical_uri().partition("?")[0]
    if ours.scheme == "sgtin" and (ours.lot or ours.cpv):
        # By design the key of a serialized item is GTIN + serial alone.
        theirs = theirs.replace(f"/22/{ours.cpv}", "").replace(f"/10/{ours.lot.replace('/', '%2F')}", "")
    assert ours.digital_link == theirs


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_gtin_check_digit_verdict_agrees_with_biip(gtin: str) -> None:
    try:
        Gtin.parse(gtin)
        biip_accepts = True
    except ParseError:
        biip_accepts = False
    try:
        parse_digital_link(f"/01/{gtin}")
        we_accept = True
    except InvalidIdentifierError:
        we_accept = False
    assert we_accept == biip_accepts


def test_identifier_errors_are_epcis_and_ledger_errors_with_status_400() -> None:
    with pytest.raises(InvalidIdentifierError) as error:
        parse_epc("urn:epc:id:sgtin:9521234.054321")
    assert isinstance(error.value, EPCISError) and isinstance(error.value, LedgerError)
    assert error.value.http_status == 400
    assert error.value.identifier == "urn:epc:id:sgtin:9521234.054321"
    assert str(error.value) == f"identifier 'urn:epc:id:sgtin:9521234.054321': {error.value.reason}"


# --- every rejection, with its reason ---------------------------------------------

REJECTIONS = [
    # bad check digits
    ("/01/09521234543210/21/ABC", "GTIN 09521234543210 has check digit 0, expected 3"),
    ("https://id.gs1.org/01/9521234543210", "GTIN 09521234543210 has check digit 0, expected 3"),
    ("/00/095212341234567890", "SSCC 095212341234567890 has check digit 0, expected 1"),
    ("/414/9521234000010", "GLN 9521234000010 has check digit 0, expected 3"),
    ("/417/9521234000019", "party GLN 9521234000019 has check digit 9, expected 3"),
    ("/8003/09521234000010X1", "GRAI 09521234000010 has check digit 0, expected 3"),
    ("/8018/952123412345678900", "GSRN 952123412345678900 has check digit 0, expected 5"),
    ("/8017/952123412345678901", "GSRN 952123412345678901 has check digit 1, expected 5"),
    ("/402/95212341234567890", "GSIN 95212341234567890 has check digit 0, expected 1"),
    ("/253/9521234000012D1", "GDTI 9521234000012 has check digit 2, expected 3"),
    ("/255/9521234000014123", "GCN 9521234000014 has check digit 4, expected 3"),
    # wrong length or not digits
    ("/01/12345", "GTIN 12345 has 5 digits, expected 8, 12, 13 or 14"),
    ("/01/095212345432130", "GTIN 095212345432130 has 15 digits, expected 8, 12, 13 or 14"),
    ("/01/0952123454321X", "GTIN '0952123454321X' must be digits only"),
    ("/00/09521234123456789", "SSCC 09521234123456789 has 17 digits, expected 18"),
    ("/414/952123400001", "GLN 952123400001 has 12 digits, expected 13"),
    ("/8003/19521234000013", "GRAI 19521234000013 must start with the filler digit 0"),
    ("/255/9521234000013A1", "GCN serial 'A1' must be digits only"),
    (
        "urn:epc:id:sgtin:9521234.54321.ABC",
        "company prefix and item reference (with its indicator digit) together must be 13 digits, got 7 + 5 = 12",
    ),
    (
        "urn:epc:id:sscc:9521234.012345678",
        "company prefix and serial reference together must be 17 digits, got 7 + 9 = 16",
    ),
    (
        "urn:epc:id:sgln:9521234.0001.0",
        "company prefix and location reference together must be 12 digits, got 7 + 4 = 11",
    ),
    ("urn:epc:id:grai:9521234.000001.X", "company prefix and asset type together must be 12 digits, got 7 + 6 = 13"),
    ("urn:epc:id:sgtin:95212.34054321.A", "GS1 Company Prefix '95212' must be 6 to 12 digits"),
    ("urn:epc:id:sgtin:9521234.05432A.1", "item reference (with its indicator digit) '05432A' must be digits only"),
    (
        "urn:epc:id:sgtin:9521234.054321",
        (
            "the part after the scheme must be CompanyPrefix.IndicatorItemReference.SerialNumber "
            "(3 non-empty parts separated by dots)"
        ),
    ),
    ("urn:epc:id:sgtin:9521234.054321." + "S" * 21, f"serial {'S' * 21!r} has 21 characters, the limit is 20"),
    ("/01/09521234543213/10/" + "L" * 21, f"lot {'L' * 21!r} has 21 characters, the limit is 20"),
    ("urn:epc:id:giai:9521234." + "A" * 24, f"GIAI {'9521234' + 'A' * 24!r} has 31 characters, the limit is 30"),
    ("https://id.gs1.org/01/09521234543213/21/" + "9" * 480, "is 520 characters long, the limit is 512"),
    # characters
    ("urn:epc:id:sgtin:9521234.054321.A B", "serial contains ' ', which an EPC URN must %-escape or cannot hold"),
    (
        "urn:epc:id:sgtin:9521234.054321.A%41",
        "serial has the escape '%41'; an EPC URN may only escape %22 (\") %25 (%) %26 (&) %2F (/) %3C (<) %3E (>) %3F (?)",
    ),
    (
        "/01/09521234543213/21/A%20B",
        "serial 'A B' contains ' ', which is outside the GS1 AI encodable character set 82",
    ),
    ("/01/09521234543213/21/A~B", "serial 'A~B' contains '~', which is outside the GS1 AI encodable character set 82"),
    ("/01/09521234543213/21/A%2", "path segment 'A%2' has a malformed %-escape"),
    # unknown or unsupported schemes and shapes
    (
        "urn:epc:id:gid:95100000.12345.400",
        (
            "unknown or unsupported EPC scheme 'urn:epc:id:gid'; supported: urn:epc:id:sgtin, urn:epc:id:sscc, "
            "urn:epc:id:sgln, urn:epc:id:pgln, urn:epc:id:grai, urn:epc:id:giai, urn:epc:id:gsrn, urn:epc:id:gsrnp, "
            "urn:epc:id:gdti, urn:epc:id:sgcn, urn:epc:id:ginc, urn:epc:id:gsin, urn:epc:class:lgtin, urn:epc:idpat:sgtin"
        ),
    ),
    (
        "urn:epc:tag:sgtin-96:3.9521234.054321.1",
        "EPC tag and raw URIs describe RFID tag encodings; give the pure identity URN (urn:epc:id:...)",
    ),
    (
        "urn:uuid:4e0b4d4c-1d0b-4b7c-9f0e-3c1d2b3a4f5e",
        (
            "not an EPC URN (urn:epc:id:..., urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:...) "
            "nor a GS1 Digital Link URI (https://<host>/01/<gtin>/21/<serial>...)"
        ),
    ),
    (
        "urn:epc:idpat:sgtin:9521234.*.*",
        "only the product-class pattern urn:epc:idpat:sgtin:<CompanyPrefix>.<ItemReference>.* is accepted",
    ),
    ("https://brand.example/products/42", "no GS1 primary key in the path (expected e.g. /01/<gtin> or /00/<sscc>)"),
    (
        "ftp://id.gs1.org/01/09521234543213",
        (
            "not an EPC URN (urn:epc:id:..., urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:...) "
            "nor a GS1 Digital Link URI (https://<host>/01/<gtin>/21/<serial>...)"
        ),
    ),
    (
        "/8006/095212345432130102",
        (
            "Digital Link primary key (8006) is not supported here; supported: (01), (00), (414), (417), (8003), (8004), "
            "(8017), (8018), (253), (255), (401), (402)"
        ),
    ),
    # Digital Link path and query rules
    ("/01/09521234543213/21", "(21) has no value: the path must alternate key and value"),
    (
        "/01/09521234543213/21/ABC/10/L1",
        "key qualifiers of (01) must come in the order (22), (10), (21); (10) is out of place",
    ),
    ("/01/09521234543213//21/ABC", "empty path segment"),
    (
        "/01/09521234543213/17/270101",
        (
            "(17) is not a key qualifier of (01) (allowed in the path, in order: (22), (10), (21)); "
            "data attributes such as an expiry date go in the query string, e.g. ?17=YYMMDD"
        ),
    ),
    (
        "/00/095212341234567891/21/X",
        (
            "(21) is not a key qualifier of (00) (allowed in the path, in order: none); "
            "data attributes such as an expiry date go in the query string, e.g. ?17=YYMMDD"
        ),
    ),
    ("/01/09521234543213?21=ABC", "(21) is a key or key qualifier and belongs in the path, not the query string"),
    ("/01/09521234543213/10/L1?17=270101&17=270102", "query attribute (17) is given twice"),
    ("/01/09521234543213/10/L1?17=271332", "(17) expiry date '271332' is not a valid YYMMDD date"),
    ("/01/09521234543213/10/L1?17=270230", "(17) expiry date '270230' is not a valid YYMMDD date"),
    ("/01/09521234543213/10/L1?15=2701", "(15) best before date '2701' is not a valid YYMMDD date"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTIONS, ids=[text[:60] for text, _ in REJECTIONS])
def test_rejection_names_the_problem(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError) as error:
        parse_digital_link(text) if text.startswith("/") else parse_epc(text)
    assert error.value.reason == reason


@pytest.mark.parametrize("value", [None, 42, ["urn:epc:id:sscc:9521234.0123456789"]])
def test_non_string_identifiers_are_rejected(value: object) -> None:
    with pytest.raises(InvalidIdentifierError, match="an identifier must be a string"):
        parse_epc(value)


def test_overlong_identifier_is_clipped_in_the_message() -> None:
    text = "urn:epc:id:sgtin:" + "9" * 600
    with pytest.raises(InvalidIdentifierError) as error:
        parse_epc(text)
    assert error.value.identifier == text
    assert len(str(error.value)) < 250
