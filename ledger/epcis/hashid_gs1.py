"""Canonical GS1 identifiers for the EPCIS event hash (CBV 2.0 "canonical event hash").

Every value that enters the pre-hash string and conveys a GS1 key (EPC URI, EPC class
URI, EPC ID pattern URI or GS1 Digital Link URI) is replaced by one constrained,
canonical GS1 Digital Link URI on ``https://id.gs1.org``: the finest identification
level only (serial beats lot), no CPV, no query string, GTINs padded to 14 digits,
check digits computed from the EPC URI's company prefix + reference.

The reference implementation (PyPI ``epcis-event-hash-generator``, used as our test
oracle) decides this with about thirty regular expressions tried one after another on
every value.  Our IDs must equal its IDs, so this module reproduces its *results*
exactly, including its corner-case behaviour, but is organised differently:

* one cheap test rejects most values (no ``.`` => not an identifier);
* EPC URIs are dispatched on their scheme prefix to exactly one precompiled pattern;
* Digital Link URIs go through a fixed sequence of string steps with precompiled
  patterns.

Where the reference behaves in a way that is arguably a bug, the comment says so and
we follow it anyway, because an event hash that differs from the reference's is worse
than useless (nobody else could recompute it).  Notably: the ``.`` in ``id.gs1.org``
is a regex wildcard in the reference, percent-encoded characters are not allowed in
Digital Link outputs, and the GRAI/GDTI serial is cut at a fixed character offset.
"""

from __future__ import annotations

import re

__all__ = ["canonical_gs1_uri", "gs1_check_digit"]

# --------------------------------------------------------------------------- helpers


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit of ``body`` (the key without its check digit).

    Precondition: ``body`` consists of decimal digits, as guaranteed by the ``\\d``
    patterns that produced it (Unicode digits included, as in the reference).
    """
    try:
        b = body.encode("ascii")
    except UnicodeEncodeError:  # non-ASCII decimal digits: rare, do it digit by digit
        total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
        return str(-total % 10)
    odd, even = b[-1::-2], b[-2::-2]  # the rightmost digit of the body weighs 3
    return str(-(3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)) % 10)


# Characters that GS1 Digital Link requires percent-encoded but that an EPC URI may
# carry literally.  One translate() pass equals the reference's chain of replace()s
# because no replacement text contains another target character.
_DL_ESCAPES = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})
_NEEDS_ESCAPE = re.compile(r"[!()*+,:]")


def _esc(text: str) -> str:
    return text.translate(_DL_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


# One character of an EPC serial / attribute (TDS "GS3A3" component), a %-escape
# counting as one character.
_G = r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])"
# One character of a CPI component reference.
_C = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"
# The same without %-escapes.
_G_PLAIN = r"[!')(*+,.0-9:;=A-Za-z_-]"
_C_PLAIN = r"[0-9A-Z-]"


def _units(escaped: str) -> int:
    """Length of an already validated G/C run, counting each %XX as one character."""
    return len(escaped) - 2 * escaped.count("%")


# Values reaching this module are stripped, so fullmatch() is equivalent to the
# reference's "$" here.  \d is Unicode-aware, as in the reference.
_CP = r"(\d{6,12})\."  # company prefix: 6..12 digits, then the first dot
_DL = "https://id.gs1.org/"
_G20 = re.compile(_G + r"{1,20}")
_G16 = re.compile(_G + r"{1,16}")
_DIGITS = re.compile(r"\d+")


class _Rx:
    """A pattern built from ``_G`` / ``_C`` pieces, compiled twice: the general form
    and a much faster one for the usual text without %-escapes (where the escape
    alternatives reduce to plain character classes)."""

    __slots__ = ("full", "plain")

    def __init__(self, tail: str) -> None:
        self.full = re.compile(_CP + tail)
        self.plain = re.compile(_CP + tail.replace(_G, _G_PLAIN).replace(_C, _C_PLAIN))

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return (self.full if "%" in text else self.plain).fullmatch(text)


def _key(body: str) -> str:
    return body + gs1_check_digit(body)


def _gtin(cp: str, item: str) -> str | None:
    """GTIN-14 from an SGTIN-style company prefix + item reference (indicator digit
    first), or None when the two do not add up to 13 digits."""
    if len(cp) + len(item) != 13:
        return None
    return _key(item[:1] + cp + item[1:])


def _fixed(rx: _Rx, total: int, fmt):
    """Scheme whose company prefix + reference have a fixed total length."""

    def parse(rest: str) -> str | None:
        m = rx.fullmatch(rest)
        if m is None or len(m[1]) + len(m[2]) != total:
            return None
        return fmt(m)

    return parse


def _gtin_based(rx: _Rx, fmt):
    def parse(rest: str) -> str | None:
        m = rx.fullmatch(rest)
        if m is None:
            return None
        gtin = _gtin(m[1], m[2])
        return None if gtin is None else fmt(gtin, m)

    return parse


def _free_ref(rx: _Rx, fmt):
    """Company prefix + a variable reference of at most 30 characters in all."""

    def parse(rest: str) -> str | None:
        m = rx.fullmatch(rest)
        if m is None or not 1 <= _units(m[2]) <= 30 - len(m[1]):
            return None
        return fmt(m)

    return parse


def _sgln(m: re.Match[str]) -> str:
    gln = _key(m[1] + m[2])
    return _DL + "414/" + gln if m[3] == "0" else _DL + "414/" + gln + "/254/" + _esc(m[3])


def _grai(rest: str) -> str | None:
    """GRAI: with a company prefix of under 12 digits, "cp.asset.serial"; with 12
    digits the reference wants "cp...serial" and keeps one of the dots in the serial
    (it cuts the serial at fixed offset 30 of the URI)."""
    dot = rest.find(".")
    cp = rest[:dot]
    if not 6 <= dot <= 12 or _DIGITS.fullmatch(cp) is None:
        return None
    n = 12 - dot
    if n:
        asset = rest[dot + 1 : dot + 1 + n]
        if len(asset) != n or _DIGITS.fullmatch(asset) is None or rest[dot + 1 + n : dot + 2 + n] != ".":
            return None
        serial = rest[dot + 2 + n :]
        if _G16.fullmatch(serial) is None:
            return None
    else:
        asset = ""
        if rest[dot + 1 : dot + 3] != ".." or _G16.fullmatch(rest[dot + 3 :]) is None:
            return None
        serial = rest[dot + 2 :]
    return _DL + "8003/" + _key("0" + cp + asset) + _esc(serial)


def _gdti(rest: str) -> str | None:
    """GDTI: company prefix, '.', document type, then 1..20 serial characters.

    The reference's pattern has no dot between document type and serial (the dot is
    simply one of the serial characters) and it then takes the serial from fixed
    offset 30 of the URI, i.e. it drops the first serial character: normally that is
    the dot, which is why "urn:epc:id:gdti:0614141.12345.400" comes out right.
    """
    dot = rest.find(".")
    cp = rest[:dot]
    if not 6 <= dot <= 12 or _DIGITS.fullmatch(cp) is None:
        return None
    n = 12 - dot
    if n:
        doc = rest[dot + 1 : dot + 1 + n]
        if len(doc) != n or _DIGITS.fullmatch(doc) is None:
            return None
        tail = rest[dot + 1 + n :]
        serial = tail[1:]
    else:  # 12-digit prefix: "cp.." then the serial
        doc = ""
        if rest[dot + 1 : dot + 2] != ".":
            return None
        tail = serial = rest[dot + 2 :]
    if _G20.fullmatch(tail) is None:
        return None
    return _DL + "253/" + _key(cp + doc) + _esc(serial)


def _pattern_12(ai: str, lead: str):
    """ID pattern URIs "cp.ref.*" (prefix under 12 digits) or "cp...*" (12 digits)."""
    rx = re.compile(_CP + r"(\d{0,6})\.\*|(\d{12})\.\.\.\*")

    def parse(rest: str) -> str | None:
        m = rx.fullmatch(rest)
        if m is None:
            return None
        if m[3] is not None:
            cp, ref = m[3], ""
        elif len(m[1]) == 12 or len(m[1]) + len(m[2]) != 12:
            return None
        else:
            cp, ref = m[1], m[2]
        return _DL + ai + _key(lead + cp + ref)

    return parse


# EPC URI scheme (the part after "urn:epc:") -> parser of the rest of the URI.
_EPC_SCHEMES = {
    "id:sgtin": _gtin_based(_Rx(r"(\d{1,7})\.(" + _G + r"{1,20})"), lambda g, m: _DL + "01/" + g + "/21/" + _esc(m[3])),
    "id:sscc": _fixed(_Rx(r"(\d{5,11})"), 17, lambda m: _DL + "00/" + _key(m[2][:1] + m[1] + m[2][1:])),
    "id:sgln": _fixed(_Rx(r"(\d{0,6})\.(" + _G + r"{1,20})"), 12, _sgln),
    "id:grai": _grai,
    "id:giai": _free_ref(_Rx(r"(" + _G + r"+)"), lambda m: _DL + "8004/" + m[1] + _esc(m[2])),
    "id:gsrn": _fixed(_Rx(r"(\d{5,11})"), 17, lambda m: _DL + "8018/" + _key(m[1] + m[2])),
    "id:gsrnp": _fixed(_Rx(r"(\d{5,11})"), 17, lambda m: _DL + "8017/" + _key(m[1] + m[2])),
    "id:gdti": _gdti,
    # CPI characters never need Digital Link escaping.
    "id:cpi": _free_ref(_Rx(r"(" + _C + r"+)\.(\d{1,12})"), lambda m: _DL + "8010/" + m[1] + m[2] + "/8011/" + m[3]),
    "id:sgcn": _fixed(_Rx(r"(\d{0,6})\.(\d{1,12})"), 12, lambda m: _DL + "255/" + _key(m[1] + m[2]) + m[3]),
    "id:ginc": _free_ref(_Rx(r"(" + _G + r"+)"), lambda m: _DL + "401/" + m[1] + _esc(m[2])),
    "id:gsin": _fixed(_Rx(r"(\d{4,10})"), 16, lambda m: _DL + "402/" + _key(m[1] + m[2])),
    "id:itip": _gtin_based(
        _Rx(r"(\d{1,7})\.(\d\d)\.(\d\d)\.(" + _G + r"{1,20})"),
        lambda g, m: _DL + "8006/" + g + m[3] + m[4] + "/21/" + _esc(m[5]),
    ),
    "id:upui": _gtin_based(_Rx(r"(\d{1,7})\.(" + _G + r"{1,28})"), lambda g, m: _DL + "01/" + g + "/235/" + _esc(m[3])),
    "id:pgln": _fixed(_Rx(r"(\d{0,6})"), 12, lambda m: _DL + "417/" + _key(m[1] + m[2])),
    "class:lgtin": _gtin_based(
        _Rx(r"(\d{1,7})\.(" + _G + r"{1,20})"), lambda g, m: _DL + "01/" + g + "/10/" + _esc(m[3])
    ),
    "idpat:sgtin": _gtin_based(_Rx(r"(\d{1,7})\.\*"), lambda g, m: _DL + "01/" + g),
    "idpat:grai": _pattern_12("8003/", "0"),
    "idpat:gdti": _pattern_12("253/", ""),
    "idpat:sgcn": _pattern_12("255/", ""),
    "idpat:cpi": _free_ref(_Rx(r"(" + _C + r"+)\.\*"), lambda m: _DL + "8010/" + m[1] + m[2]),
    "idpat:itip": _gtin_based(_Rx(r"(\d{1,7})\.(\d\d)\.(\d\d)\.\*"), lambda g, m: _DL + "8006/" + g + m[3] + m[4]),
    "idpat:upui": _gtin_based(_Rx(r"(\d{1,7})\.\*"), lambda g, m: _DL + "01/" + g),
}


def _epc(uri: str) -> str | None:
    """Canonical DL URI of an EPC (class / pattern) URI, or None if it is not one."""
    c1 = uri.find(":", 8)  # "urn:epc:" is 8 characters; the scheme is e.g. "id:sgtin"
    c2 = uri.find(":", c1 + 1) if c1 > 0 else -1
    parse = _EPC_SCHEMES.get(uri[8:c2]) if c2 > 0 else None
    return None if parse is None else parse(uri[c2 + 1 :])


# --------------------------------------------------------------------------- Digital Link

# "Is this a GS1 Digital Link URI at all?"  Equivalent to the reference's big URI
# pattern: after "http(s):", a primary key segment "/<key>/dddd<one more char>" must
# start before the first '?' or '#'.  (Its other alternative can never survive the
# later validation, so it is not needed.)
_DL_SCHEME = re.compile(r"https?:")
_DL_KEYSEG = re.compile(
    r"/(?:01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti"
    r"|401|ginc|402|gsin|8003|grai|8004|giai)/\d{4}[^/]"
)
_QF = re.compile(r"[?#]")

# Short names -> application identifiers, applied as successive str.replace() calls
# (the order and the non-overlapping semantics matter for paths like "/gtin/lot/").
_SHORT_NAMES = (
    ("/gtin/", "/01/"), ("/itip/", "/8006/"), ("/cpid/", "/8010/"), ("/gln/", "/414/"),
    ("/party/", "/417/"), ("/gsrnp/", "/8017/"), ("/gsrn/", "/8018/"), ("/gcn/", "/255/"),
    ("/sscc/", "/00/"), ("/gdti/", "/253/"), ("/ginc/", "/401/"), ("/gsin/", "/402/"),
    ("/grai/", "/8003/"), ("/giai/", "/8004/"), ("/cpv/", "/22/"), ("/lot/", "/10/"), ("/ser/", "/21/"),
)  # fmt: skip

# NB: in the reference the dots of "id.gs1.org" are regex wildcards; we keep that so
# that the same URIs are (or are not) recognised as canonical.
_HOST = r"https://id.gs1.org/"
_CANON_START = re.compile(_HOST + r"(?:01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\d{4}[^/]")
# Primary keys in the order the reference looks for them when moving a URI to the
# canonical host (priority order, not position order).
_PRIMARY = ("/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/",
            "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/")  # fmt: skip
_GTIN_DIGITS = re.compile(_HOST + r"01/(\d*)")

_D = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"  # DL value characters
_CPV_END = re.compile(_HOST + r"(?:8006/\d{18}|01/\d{14})/22/" + _D + r"{0,20}$")
_CPV_MID = re.compile(
    _HOST + r"(?:8006/\d{18}|01/\d{14})/22/[/\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20}$"
)
_LOT_AND_SERIAL = re.compile(_HOST + r"(?:8006/\d{18}|01/\d{14})/10/" + _D + r"{0,20}/21/" + _D + r"{0,20}$")
_VALID = re.compile(
    _HOST
    + r"(?:00/\d{18}|01/\d{14}/21/" + _D + r"{0,20}|01/\d{14}/10/" + _D + r"{0,20}|01/\d{14}"
    r"|01/\d{14}/235/" + _D + r"{0,28}|253/\d{13}" + _D + r"{0,17}|255/\d{13}\d{0,12}|401/" + _D + r"{0,30}"
    r"|402/\d{17}|414/\d{13}|414/\d{13}/254/" + _D + r"{0,20}|417/\d{13}|8003/\d{14}" + _D + r"{0,16}"
    r"|8004/" + _D + r"{0,30}|8006/\d{18}/21/" + _D + r"{0,20}|8006/\d{18}/10/" + _D + r"{0,20}|8006/\d{18}"
    r"|8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/\d{0,12}|8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}"
    r"|8017/\d{18}|8018/\d{18})$"
)  # fmt: skip


def _digital_link(uri: str) -> str | None:
    m = _DL_SCHEME.match(uri)
    if m is None:
        return None
    tail = uri[m.end() :]
    seg = _DL_KEYSEG.search(tail)
    if seg is None:
        return None
    q = _QF.search(tail)
    if q is not None and seg.start() > q.start():
        return None

    q = uri.find("?")  # drop the query string (a fragment is kept, and later rejected)
    if q >= 0:
        uri = uri[:q]
    if "/" in uri:
        for short, ai in _SHORT_NAMES:
            if short in uri:
                uri = uri.replace(short, ai)

    if _CANON_START.match(uri) is None:
        for key in _PRIMARY:
            pos = uri.find(key)
            if pos != -1:
                uri = "https://id.gs1.org" + uri[pos:]
                break

    m = _GTIN_DIGITS.match(uri)
    if m is not None:
        n = len(m.group(1))
        pad = "0" if n == 13 else "00" if n == 12 else "000000" if 8 <= n <= 11 else ""
        if pad:
            uri = uri.replace("/01/", "/01/" + pad)  # every occurrence, as the reference

    i22 = uri.find("/22/")
    if i22 >= 0:
        after = uri[i22 + 4 :]
        if _CPV_END.match(uri):
            uri = uri[:i22]
        elif _CPV_MID.match(uri):
            uri = uri[:i22] + after[after.find("/") :]

    if _LOT_AND_SERIAL.match(uri):
        i10 = uri.find("/10/")
        after = uri[i10 + 4 :]
        uri = uri[:i10] + after[after.find("/") :]

    return uri if _VALID.match(uri) else None


# --------------------------------------------------------------------------- entry point


def canonical_gs1_uri(value: str) -> str | None:
    """Canonical GS1 Digital Link URI for an EPC URI / EPC class or pattern URI /
    GS1 Digital Link URI, or ``None`` when ``value`` is none of these (then the
    event hash uses the value unchanged).

    Precondition: ``value`` is already stripped of surrounding whitespace.
    Not cached here: ``hashid`` caches canonical values as a whole.
    """
    if "." not in value:  # every identifier form handled here contains a dot
        return None
    if value.startswith("urn:epc:"):
        return _epc(value)
    if value.startswith("http"):
        if _ALREADY_CANONICAL.fullmatch(value):
            return value
        return _digital_link(value)
    return None


# Canonical DL URIs pass through _digital_link unchanged (no query, no short names,
# no CPV, not both lot and serial, valid syntax); recognise the usual ones at once.
_ALREADY_CANONICAL = re.compile(
    r"https://id\.gs1\.org/(?:01/[0-9]{14}(?:/(?:21|10)/[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3E\x41-\x5A\x5F\x61-\x7A]{0,20})?"
    r"|00/[0-9]{18}|41[47]/[0-9]{13})"
)  # (the value characters of _D except "?", which starts a query string)
