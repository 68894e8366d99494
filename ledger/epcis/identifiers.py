"""EPC identifiers: EPC pure identity URNs and GS1 Digital Link URIs.

EPCIS events name objects either way; the same serialized pack can arrive as
``urn:epc:id:sgtin:9521234.054321.ABC`` from one system and as
``https://id.gs1.org/01/09521234543213/21/ABC`` from another. Both parse to
an :class:`Identifier` whose ``canonical`` form, a Digital Link path
(``/01/09521234543213/21/ABC``), is the key the index and the resolver use
for traces, so the two spellings meet on one history.

Every GS1 key is checked: digits, length, check digit (recomputed for URNs,
which carry none), and each value's character set and length through
``biip``'s GS1 Application Identifier table. Query attributes of a Digital
Link (``?17=270101``) are validated the same way; dates must be real dates.

Canonical form rules (where GS1 leaves a choice):

- the host, any path prefix and the query string are dropped;
- a serialized item is keyed by GTIN + serial only: a lot (10) or consumer
  product variant (22) in the same URI is kept on the :class:`Identifier`
  but left out of ``canonical``, because GTIN + serial alone identifies the
  item and a scanner reading the lot-less barcode must find the same trace;
- a lot class is GTIN + lot; a product class is the GTIN (+ CPV if given);
- GTIN-8/12/13 in a Digital Link are padded to GTIN-14;
- an SGLN extension of ``0`` is TDS's "no extension" and maps to a bare GLN;
- values are percent-encoded with everything but ``A-Za-z0-9-._~`` escaped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from ledger.epcis.errors import InvalidIdentifierError
from ledger.gs1 import check_digit

MAX_IDENTIFIER_LENGTH = 512
DIGITAL_LINK_HOST = "https://id.gs1.org"

Expectation = Literal["instance", "class"]

# Primary keys the GS1 Digital Link standard defines; only some are supported
# here, the rest get a clear "not supported" instead of "no key found".
_ALL_DL_PRIMARY_KEYS = frozenset(
    {
        "00",
        "01",
        "253",
        "255",
        "401",
        "402",
        "414",
        "415",
        "417",
        "8003",
        "8004",
        "8006",
        "8010",
        "8013",
        "8017",
        "8018",
    }
)
_QUALIFIERS: dict[str, tuple[str, ...]] = {"01": ("22", "10", "21"), "414": ("254",)}

_SCHEME_BY_AI = {
    "00": "sscc",
    "414": "sgln",
    "417": "pgln",
    "8003": "grai",
    "8004": "giai",
    "8017": "gsrnp",
    "8018": "gsrn",
    "253": "gdti",
    "255": "sgcn",
    "401": "ginc",
    "402": "gsin",
}
SUPPORTED_DIGITAL_LINK_KEYS = ("01", *_SCHEME_BY_AI)
SUPPORTED_URN_SCHEMES = (
    "urn:epc:id:sgtin",
    "urn:epc:id:sscc",
    "urn:epc:id:sgln",
    "urn:epc:id:pgln",
    "urn:epc:id:grai",
    "urn:epc:id:giai",
    "urn:epc:id:gsrn",
    "urn:epc:id:gsrnp",
    "urn:epc:id:gdti",
    "urn:epc:id:sgcn",
    "urn:epc:id:ginc",
    "urn:epc:id:gsin",
    "urn:epc:class:lgtin",
    "urn:epc:idpat:sgtin",
)

# What each AI is called in messages.
_AI_NAMES = {
    "00": "SSCC",
    "01": "GTIN",
    "10": "lot",
    "21": "serial",
    "22": "consumer product variant",
    "254": "GLN extension",
    "414": "GLN",
    "417": "party GLN",
    "8003": "GRAI",
    "8004": "GIAI",
    "8017": "GSRN",
    "8018": "GSRN",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
}
# Keys that are all digits and end in a mod-10 check digit: AI -> length.
_CHECKED_NUMERIC_KEYS = {"00": 18, "414": 13, "417": 13, "8017": 18, "8018": 18, "402": 17}
# Keys made of a checked numeric part followed by an optional serial:
# AI -> (numeric length, serial maximum length, serial numeric only).
_CHECKED_KEYS_WITH_SERIAL = {"8003": (14, 16, False), "253": (13, 17, False), "255": (13, 12, True)}
# Alphanumeric values (GS1 AI encodable character set 82): AI -> maximum length.
_ALPHANUMERIC = {"10": 20, "21": 20, "22": 20, "254": 20, "8004": 30, "401": 30}

_DATE_AIS = {
    "11": "production date",
    "12": "due date",
    "13": "packaging date",
    "15": "best before date",
    "16": "sell by date",
    "17": "expiry date",
}
_FULLY_CHECKED_HERE = frozenset({"01", *_CHECKED_NUMERIC_KEYS, *_CHECKED_KEYS_WITH_SERIAL, *_ALPHANUMERIC})

# GS1 AI encodable character set 82.
_CHARSET_82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
_DIGITS = re.compile(r"[0-9]+")
# Characters an EPC URN component may hold literally; the others of set 82
# must be %-escaped (TDS 2.0, section 6.3).
_URN_LITERAL = re.compile(r"[A-Za-z0-9!'()*+,\-.:;=_]")
_URN_ESCAPES = {"%22": '"', "%25": "%", "%26": "&", "%2F": "/", "%3C": "<", "%3E": ">", "%3F": "?"}
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True, eq=False)
class Identifier:
    """A parsed, validated EPC instance or class identifier.

    Two identifiers are equal when they name the same object or class, that
    is when their ``canonical`` forms are equal, whatever spelling they came in.
    """

    uri: str
    """The text as given."""

    scheme: str
    """``sgtin``, ``lgtin``, ``gtin`` (product class), ``sscc``, ``sgln``,
    ``pgln``, ``grai``, ``giai``, ``gsrn``, ``gsrnp``, ``gdti``, ``sgcn``,
    ``ginc`` or ``gsin``."""

    canonical: str
    """Digital Link path, e.g. ``/01/09521234543213/21/ABC``: the trace key."""

    ai: str
    """Application Identifier of the primary key (``01``, ``00``, ``414``...)."""

    key: str
    """The primary key's element string value (GTIN-14, SSCC, GLN, the whole GRAI...)."""

    is_class: bool = False
    """True for a class of objects (lot, product, asset type), False for one object."""

    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    cpv: str | None = None
    sscc: str | None = None
    gln: str | None = None
    gln_extension: str | None = None

    company_prefix: str | None = None
    """GS1 Company Prefix; only URNs state it (a Digital Link does not)."""

    attributes: tuple[tuple[str, str], ...] = field(default=())
    """Digital Link query attributes that are GS1 AIs, as (AI, value) sorted by AI."""

    expiry: date | None = None
    """Expiry date from the Digital Link attribute 17 (YYMMDD), if present."""

    @property
    def digital_link(self) -> str:
        """The canonical form as a full URI on GS1's resolver host."""
        return DIGITAL_LINK_HOST + self.canonical

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identifier):
            return NotImplemented
        return self.canonical == other.canonical

    def __hash__(self) -> int:
        return hash(self.canonical)


def parse_epc(text: object, *, expect: Expectation | None = None) -> Identifier:
    """Parse an EPC URN or a GS1 Digital Link URI into an :class:`Identifier`.

    ``expect="instance"`` rejects class identifiers (for ``epcList``,
    ``parentID``...); ``expect="class"`` rejects instances (for
    ``quantityList[*].epcClass``). Raises :class:`InvalidIdentifierError`.
    """
    if not isinstance(text, str):
        raise InvalidIdentifierError(repr(text), f"an identifier must be a string, got {type(text).__name__}")
    # Capture meets the same locations and EPCs again and again (validation,
    # then indexing); an Identifier is immutable, so parsed ones are reused.
    identifier = _parse_text(text)
    if expect == "instance" and identifier.is_class:
        raise InvalidIdentifierError(
            text, f"identifies a class of objects ({identifier.canonical}), but a single object is needed here"
        )
    if expect == "class" and not identifier.is_class:
        raise InvalidIdentifierError(
            text,
            f"identifies a single object ({identifier.canonical}), but a class is needed here "
            "(urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:<prefix>.<item>.*, or a Digital Link /01/<gtin>[/10/<lot>])",
        )
    return identifier


@functools.lru_cache(maxsize=65_536)
def _parse_text(text: str) -> Identifier:
    _check_length(text)
    if text.startswith("urn:epc:"):
        return _parse_urn(text)
    if text.startswith(("https://", "http://")):
        return parse_digital_link(text)
    raise InvalidIdentifierError(
        text,
        "not an EPC URN (urn:epc:id:..., urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:...) "
        "nor a GS1 Digital Link URI (https://<host>/01/<gtin>/21/<serial>...)",
    )


def looks_like_digital_link(uri: str) -> bool:
    """Whether an http(s) URI has a GS1 primary key in its path.

    Lets a caller treat ``https://example.com/parties/42`` as a plain URI
    while still insisting that ``https://example.com/414/<gln>`` be valid.
    """
    if not uri.startswith(("https://", "http://")):
        return False
    segments = urlsplit(uri).path.split("/")
    return any(segment in _ALL_DL_PRIMARY_KEYS for segment in segments[:-1])


def parse_digital_link(path_or_uri: str) -> Identifier:
    """Parse a GS1 Digital Link URI, or just its path, into an :class:`Identifier`.

    Accepts any host and path prefix (``https://brand.example/p/01/...``),
    the key qualifiers of the standard in its order (``/01/{gtin}`` then
    optionally ``/22/{cpv}``, ``/10/{lot}``, ``/21/{serial}``; ``/414/{gln}``
    then optionally ``/254/{extension}``), and a query string whose GS1 AI
    parameters are validated (``?17=270101`` must be a real date) while other
    parameters (``linkType``...) are ignored, as the standard requires.
    """
    if not isinstance(path_or_uri, str):
        raise InvalidIdentifierError(repr(path_or_uri), "a Digital Link must be a string")
    text = path_or_uri
    _check_length(text)
    if text.startswith("/"):
        path, _, query = text.partition("?")
        query = query.partition("#")[0]
    else:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidIdentifierError(
                text, "a Digital Link URI is http(s)://<host>/<path> or a path starting with /"
            )
        path, query = parts.path, parts.query

    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    start = next((i for i, segment in enumerate(segments) if segment in _ALL_DL_PRIMARY_KEYS), None)
    if start is None:
        raise InvalidIdentifierError(text, "no GS1 primary key in the path (expected e.g. /01/<gtin> or /00/<sscc>)")
    pairs = segments[start:]
    if "" in pairs:
        raise InvalidIdentifierError(text, "empty path segment")
    if len(pairs) % 2:
        raise InvalidIdentifierError(text, f"({pairs[-1]}) has no value: the path must alternate key and value")
    decoded = [(pairs[i], _decode_segment(text, pairs[i + 1])) for i in range(0, len(pairs), 2)]
    (primary_ai, primary_value), qualifier_pairs = decoded[0], decoded[1:]
    if primary_ai not in SUPPORTED_DIGITAL_LINK_KEYS:
        raise InvalidIdentifierError(
            text,
            f"Digital Link primary key ({primary_ai}) is not supported here; "
            f"supported: {', '.join(f'({ai})' for ai in SUPPORTED_DIGITAL_LINK_KEYS)}",
        )
    qualifiers = _ordered_qualifiers(text, primary_ai, qualifier_pairs)
    if primary_ai == "01":
        primary_value = _padded_gtin(text, primary_value)
    attributes = _query_attributes(text, primary_ai, query)
    return _build(text, primary_ai, primary_value, qualifiers, attributes=attributes)


def _ordered_qualifiers(text: str, primary_ai: str, pairs: list[tuple[str, str]]) -> dict[str, str]:
    allowed = _QUALIFIERS.get(primary_ai, ())
    qualifiers: dict[str, str] = {}
    position = 0
    for ai, value in pairs:
        if ai not in allowed:
            listed = ", ".join(f"({q})" for q in allowed) or "none"
            raise InvalidIdentifierError(
                text,
                f"({ai}) is not a key qualifier of ({primary_ai}) (allowed in the path, in order: {listed}); "
                "data attributes such as an expiry date go in the query string, e.g. ?17=YYMMDD",
            )
        index = allowed.index(ai)
        if index < position:
            order = ", ".join(f"({q})" for q in allowed)
            raise InvalidIdentifierError(
                text, f"key qualifiers of ({primary_ai}) must come in the order {order}; ({ai}) is out of place"
            )
        position = index + 1
        qualifiers[ai] = value
    return qualifiers


def _query_attributes(text: str, primary_ai: str, query: str) -> list[tuple[str, str]]:
    attributes: dict[str, str] = {}
    for parameter in filter(None, query.split("&")):
        name, _, raw_value = parameter.partition("=")
        if not _is_application_identifier(name):
            continue
        if name in _ALL_DL_PRIMARY_KEYS or name in _QUALIFIERS.get(primary_ai, ()):
            raise InvalidIdentifierError(
                text, f"({name}) is a key or key qualifier and belongs in the path, not the query string"
            )
        if name in attributes:
            raise InvalidIdentifierError(text, f"query attribute ({name}) is given twice")
        if _PERCENT.search(raw_value):
            raise InvalidIdentifierError(text, f"query attribute ({name}) has a malformed %-escape")
        attributes[name] = unquote(raw_value)
    return sorted(attributes.items())


def _is_application_identifier(name: str) -> bool:
    if not _DIGITS.fullmatch(name):
        return False
    try:
        return GS1ApplicationIdentifier.extract(name).ai == name
    except ParseError:
        return False


def _decode_segment(text: str, segment: str) -> str:
    if _PERCENT.search(segment):
        raise InvalidIdentifierError(text, f"path segment {segment!r} has a malformed %-escape")
    return unquote(segment)


def _padded_gtin(text: str, gtin: str) -> str:
    if not _DIGITS.fullmatch(gtin):
        raise InvalidIdentifierError(text, f"GTIN {gtin!r} must be digits only")
    if len(gtin) not in (8, 12, 13, 14):
        raise InvalidIdentifierError(text, f"GTIN {gtin} has {len(gtin)} digits, expected 8, 12, 13 or 14")
    return gtin.zfill(14)


# --- EPC URNs (GS1 EPC Tag Data Standard 2.0, pure identity) ----------------


def _parse_urn(urn: str) -> Identifier:
    # The body may itself hold colons (a serial can), so split off four fields only.
    fields = urn.split(":", 4)
    scheme, body = ":".join(fields[:4]), fields[4] if len(fields) == 5 else ""
    if scheme not in SUPPORTED_URN_SCHEMES:
        if urn.startswith(("urn:epc:tag:", "urn:epc:raw:")):
            raise InvalidIdentifierError(
                urn, "EPC tag and raw URIs describe RFID tag encodings; give the pure identity URN (urn:epc:id:...)"
            )
        raise InvalidIdentifierError(
            urn, f"unknown or unsupported EPC scheme {scheme!r}; supported: {', '.join(SUPPORTED_URN_SCHEMES)}"
        )
    kind = scheme.rsplit(":", 1)[-1]
    if scheme == "urn:epc:idpat:sgtin":
        return _parse_sgtin_pattern(urn, body)
    parser = _URN_PARSERS["lgtin" if scheme == "urn:epc:class:lgtin" else kind]
    return parser(urn, body)


def _parse_sgtin(urn: str, body: str) -> Identifier:
    prefix, item, serial = _split(urn, body, "CompanyPrefix.IndicatorItemReference.SerialNumber")
    gtin = _gtin_from(urn, prefix, item)
    return _build(urn, "01", gtin, {"21": _urn_text(urn, serial, "serial")}, company_prefix=prefix)


def _parse_lgtin(urn: str, body: str) -> Identifier:
    prefix, item, lot = _split(urn, body, "CompanyPrefix.IndicatorItemReference.Lot")
    gtin = _gtin_from(urn, prefix, item)
    return _build(urn, "01", gtin, {"10": _urn_text(urn, lot, "lot")}, company_prefix=prefix)


def _parse_sgtin_pattern(urn: str, body: str) -> Identifier:
    prefix, item, serial = _split(urn, body, "CompanyPrefix.IndicatorItemReference.*")
    if serial != "*" or "*" in (prefix, item):
        raise InvalidIdentifierError(
            urn, "only the product-class pattern urn:epc:idpat:sgtin:<CompanyPrefix>.<ItemReference>.* is accepted"
        )
    gtin = _gtin_from(urn, prefix, item)
    return _build(urn, "01", gtin, {}, company_prefix=prefix)


def _parse_sscc(urn: str, body: str) -> Identifier:
    prefix, serial_reference = _split(urn, body, "CompanyPrefix.SerialReference")
    _numeric_pair(urn, prefix, serial_reference, 17, "serial reference")
    payload = serial_reference[0] + prefix + serial_reference[1:]
    return _build(urn, "00", payload + str(check_digit(payload)), {}, company_prefix=prefix)


def _parse_sgln(urn: str, body: str) -> Identifier:
    prefix, location, extension = _split(urn, body, "CompanyPrefix.LocationReference.Extension")
    _numeric_pair(urn, prefix, location, 12, "location reference")
    extension = _urn_text(urn, extension, "GLN extension")
    qualifiers = {} if extension == "0" else {"254": extension}
    return _build(urn, "414", _with_check(prefix + location), qualifiers, company_prefix=prefix)


def _parse_pgln(urn: str, body: str) -> Identifier:
    prefix, party = _split(urn, body, "CompanyPrefix.PartyReference")
    _numeric_pair(urn, prefix, party, 12, "party reference")
    return _build(urn, "417", _with_check(prefix + party), {}, company_prefix=prefix)


def _parse_grai(urn: str, body: str) -> Identifier:
    prefix, asset_type, serial = _split(urn, body, "CompanyPrefix.AssetType.SerialNumber")
    _numeric_pair(urn, prefix, asset_type, 12, "asset type")
    grai = _with_check("0" + prefix + asset_type) + _urn_text(urn, serial, "serial")
    return _build(urn, "8003", grai, {}, company_prefix=prefix)


def _parse_gdti(urn: str, body: str) -> Identifier:
    prefix, document_type, serial = _split(urn, body, "CompanyPrefix.DocumentType.SerialNumber")
    _numeric_pair(urn, prefix, document_type, 12, "document type")
    gdti = _with_check(prefix + document_type) + _urn_text(urn, serial, "serial")
    return _build(urn, "253", gdti, {}, company_prefix=prefix)


def _parse_sgcn(urn: str, body: str) -> Identifier:
    prefix, coupon, serial = _split(urn, body, "CompanyPrefix.CouponReference.SerialComponent")
    _numeric_pair(urn, prefix, coupon, 12, "coupon reference")
    gcn = _with_check(prefix + coupon) + _urn_text(urn, serial, "serial")
    return _build(urn, "255", gcn, {}, company_prefix=prefix)


def _fixed_numeric(ai: str, reference_name: str, total: int):
    def parse(urn: str, body: str) -> Identifier:
        prefix, reference = _split(urn, body, f"CompanyPrefix.{reference_name.title().replace(' ', '')}")
        _numeric_pair(urn, prefix, reference, total, reference_name)
        return _build(urn, ai, _with_check(prefix + reference), {}, company_prefix=prefix)

    return parse


def _alphanumeric(ai: str, reference_name: str):
    def parse(urn: str, body: str) -> Identifier:
        prefix, reference = _split(urn, body, f"CompanyPrefix.{reference_name.title().replace(' ', '')}")
        _company_prefix(urn, prefix)
        return _build(urn, ai, prefix + _urn_text(urn, reference, reference_name), {}, company_prefix=prefix)

    return parse


_URN_PARSERS = {
    "sgtin": _parse_sgtin,
    "lgtin": _parse_lgtin,
    "sscc": _parse_sscc,
    "sgln": _parse_sgln,
    "pgln": _parse_pgln,
    "grai": _parse_grai,
    "gdti": _parse_gdti,
    "sgcn": _parse_sgcn,
    "gsrn": _fixed_numeric("8018", "service reference", 17),
    "gsrnp": _fixed_numeric("8017", "service reference", 17),
    "gsin": _fixed_numeric("402", "shipper reference", 16),
    "giai": _alphanumeric("8004", "individual asset reference"),
    "ginc": _alphanumeric("401", "consignment reference"),
}


def _split(urn: str, body: str, layout: str) -> list[str]:
    count = layout.count(".") + 1
    # Only the last component may contain dots (serials, lots and extensions can).
    parts = body.split(".", count - 1)
    if len(parts) != count or "" in parts:
        raise InvalidIdentifierError(
            urn, f"the part after the scheme must be {layout} ({count} non-empty parts separated by dots)"
        )
    return parts


def _company_prefix(urn: str, prefix: str) -> None:
    if not _DIGITS.fullmatch(prefix) or not 6 <= len(prefix) <= 12:
        raise InvalidIdentifierError(urn, f"GS1 Company Prefix {prefix!r} must be 6 to 12 digits")


def _numeric_pair(urn: str, prefix: str, reference: str, total: int, reference_name: str) -> None:
    _company_prefix(urn, prefix)
    if not _DIGITS.fullmatch(reference):
        raise InvalidIdentifierError(urn, f"{reference_name} {reference!r} must be digits only")
    if len(prefix) + len(reference) != total:
        raise InvalidIdentifierError(
            urn,
            f"company prefix and {reference_name} together must be {total} digits, "
            f"got {len(prefix)} + {len(reference)} = {len(prefix) + len(reference)}",
        )


def _gtin_from(urn: str, prefix: str, item: str) -> str:
    _numeric_pair(urn, prefix, item, 13, "item reference (with its indicator digit)")
    # TDS: the indicator digit leads the item reference in the URN and the GTIN.
    return _with_check(item[0] + prefix + item[1:])


def _with_check(payload: str) -> str:
    return payload + str(check_digit(payload))


def _urn_text(urn: str, component: str, name: str) -> str:
    decoded: list[str] = []
    index = 0
    while index < len(component):
        char = component[index]
        if char == "%":
            escape = component[index : index + 3].upper()
            if escape not in _URN_ESCAPES:
                raise InvalidIdentifierError(
                    urn,
                    f"{name} has the escape {component[index : index + 3]!r}; an EPC URN may only escape "
                    + " ".join(f"{e} ({c})" for e, c in _URN_ESCAPES.items()),
                )
            decoded.append(_URN_ESCAPES[escape])
            index += 3
            continue
        if not _URN_LITERAL.fullmatch(char):
            raise InvalidIdentifierError(
                urn, f"{name} contains {char!r}, which an EPC URN must %-escape or cannot hold"
            )
        decoded.append(char)
        index += 1
    return "".join(decoded)


# --- shared: from GS1 element values to an Identifier -----------------------


def _build(
    uri: str,
    primary_ai: str,
    primary_value: str,
    qualifiers: dict[str, str],
    *,
    attributes: list[tuple[str, str]] | None = None,
    company_prefix: str | None = None,
) -> Identifier:
    attributes = attributes or []
    _check_element(uri, primary_ai, primary_value)
    for ai, value in qualifiers.items():
        _check_element(uri, ai, value)
    expiry = None
    for ai, value in attributes:
        element = _check_element(uri, ai, value)
        if ai == "17" and element is not None:
            expiry = element.date

    if primary_ai == "01":
        gtin = primary_value
        serial, lot, cpv = qualifiers.get("21"), qualifiers.get("10"), qualifiers.get("22")
        if serial is not None:
            scheme, is_class, path = "sgtin", False, [("01", gtin), ("21", serial)]
        elif lot is not None:
            scheme, is_class, path = "lgtin", True, [("01", gtin), ("10", lot)]
        else:
            scheme, is_class, path = "gtin", True, [("01", gtin)] + ([("22", cpv)] if cpv is not None else [])
        return Identifier(
            uri=uri,
            scheme=scheme,
            canonical=_path(path),
            ai="01",
            key=gtin,
            is_class=is_class,
            gtin=gtin,
            serial=serial,
            lot=lot,
            cpv=cpv,
            company_prefix=company_prefix,
            attributes=tuple(attributes),
            expiry=expiry,
        )

    extension = qualifiers.get("254")
    if extension == "0":
        extension = None
    path = [(primary_ai, primary_value)] + ([("254", extension)] if extension is not None else [])
    # A GRAI, GDTI or GCN without its serial part names a type of asset,
    # document or coupon, not one of them.
    is_class = (
        primary_ai in _CHECKED_KEYS_WITH_SERIAL and len(primary_value) == _CHECKED_KEYS_WITH_SERIAL[primary_ai][0]
    )
    return Identifier(
        uri=uri,
        scheme=_SCHEME_BY_AI[primary_ai],
        canonical=_path(path),
        ai=primary_ai,
        key=primary_value,
        is_class=is_class,
        sscc=primary_value if primary_ai == "00" else None,
        gln=primary_value if primary_ai in ("414", "417") else None,
        gln_extension=extension,
        company_prefix=company_prefix,
        attributes=tuple(attributes),
        expiry=expiry,
    )


def _path(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in pairs)


def _check_element(uri: str, ai: str, value: str) -> GS1ElementString | None:
    name = _AI_NAMES.get(ai, f"({ai})")
    if ai == "01":
        _check_numeric_key(uri, name, value, 14)
    elif ai in _CHECKED_NUMERIC_KEYS:
        _check_numeric_key(uri, name, value, _CHECKED_NUMERIC_KEYS[ai])
    elif ai in _CHECKED_KEYS_WITH_SERIAL:
        length, serial_limit, serial_numeric = _CHECKED_KEYS_WITH_SERIAL[ai]
        numeric, serial = value[:length], value[length:]
        if ai == "8003" and not numeric.startswith("0"):
            raise InvalidIdentifierError(uri, f"GRAI {value} must start with the filler digit 0")
        _check_numeric_key(uri, name, numeric, length)
        _check_text(uri, f"{name} serial", serial, serial_limit, allow_empty=True)
        if serial_numeric and serial and not _DIGITS.fullmatch(serial):
            raise InvalidIdentifierError(uri, f"{name} serial {serial!r} must be digits only")
    elif ai in _ALPHANUMERIC:
        _check_text(uri, name, value, _ALPHANUMERIC[ai])
    if ai in _FULLY_CHECKED_HERE:
        # biip would only repeat the checks above, at ~50x their cost per
        # identifier: capture parses every EPC of every event.
        return None
    try:
        element = GS1ElementString.parse(ai + value)
    except ParseError as error:
        if ai in _DATE_AIS:
            reason = f"({ai}) {_DATE_AIS[ai]} {value!r} is not a valid YYMMDD date"
        else:
            reason = f"({ai}) value {value!r} is not valid: {error}"
        raise InvalidIdentifierError(uri, reason) from None
    # biip re-checks GTIN, GLN and SSCC; reaching this means it knows a rule we do not.
    problem = element.gtin_error or element.gln_error or element.sscc_error
    if problem:
        raise InvalidIdentifierError(uri, f"({ai}) {problem}")
    return element


def _check_numeric_key(uri: str, name: str, value: str, length: int) -> None:
    if not _DIGITS.fullmatch(value):
        raise InvalidIdentifierError(uri, f"{name} {value!r} must be digits only")
    if len(value) != length:
        raise InvalidIdentifierError(uri, f"{name} {value} has {len(value)} digits, expected {length}")
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise InvalidIdentifierError(uri, f"{name} {value} has check digit {value[-1]}, expected {expected}")


def _check_text(uri: str, name: str, value: str, limit: int, *, allow_empty: bool = False) -> None:
    if not value and not allow_empty:
        raise InvalidIdentifierError(uri, f"{name} is empty")
    if len(value) > limit:
        raise InvalidIdentifierError(uri, f"{name} {value!r} has {len(value)} characters, the limit is {limit}")
    if not _CHARSET_82.fullmatch(value):
        bad = next(char for char in value if not _CHARSET_82.fullmatch(char))
        raise InvalidIdentifierError(
            uri, f"{name} {value!r} contains {bad!r}, which is outside the GS1 AI encodable character set 82"
        )


def _check_length(text: str) -> None:
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifierError(text, f"is {len(text)} characters long, the limit is {MAX_IDENTIFIER_LENGTH}")
