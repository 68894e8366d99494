"""Read QR codes and GS1 DataMatrix symbols from an image, with their GS1 meaning.

``decode_image`` finds every QR code and DataMatrix in a PNG/JPEG (bytes, a
path or a Pillow image) with zxing-cpp and returns them as :class:`Symbol`:
format, raw text, symbology identifier, and, where the content is GS1, the
parsed :class:`~ledger.epcis.identifiers.Identifier`:

- a GS1 Digital Link URI (a QR on a food label) goes through
  :func:`~ledger.epcis.identifiers.parse_digital_link`;
- GS1 element strings (a GS1 DataMatrix on a drug pack, FNC1 in first
  position, symbology identifier ``]d2``; a GS1 QR ``]Q3``; or a bracketed
  string ``(01)09521...(21)ABC(17)270101(10)LOT``) are parsed with ``biip``
  and turned into the equivalent Digital Link (primary key and qualifiers in
  the path, other AIs such as ``17`` in the query), then parsed the same way;
- an EPC URN is accepted too (``parse_epc``).

So a DataMatrix on a drug pack and a QR on a food label end up as the same
kind of Identifier, equal when they name the same item. A symbol whose text
has no GS1 meaning is still returned, with ``identifier=None`` and the
reason in ``problem``; :func:`read_identifier` is the strict form that wants
exactly one GS1 identifier and raises :class:`DecodeError` (HTTP 422)
otherwise.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import biip
from biip.gs1_messages import GS1Message
from PIL import Image, ImageOps, UnidentifiedImageError

from ledger.epcis.errors import InvalidIdentifierError
from ledger.epcis.identifiers import DIGITAL_LINK_HOST, Identifier, parse_digital_link, parse_epc
from ledger.errors import LedgerError
from scanner.labels import gs1_hri

__all__ = [
    "DecodeError",
    "Symbol",
    "SymbolFormat",
    "decode_image",
    "element_strings_to_digital_link",
    "parse_gs1",
    "read_identifier",
]

SymbolFormat = Literal["QR", "DataMatrix"]
ImageInput = bytes | bytearray | memoryview | str | os.PathLike[str] | Image.Image

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
MAX_IMAGE_PIXELS = 50_000_000

# GS1 Digital Link primary keys, and the key qualifiers that go in the path
# (in this order); every other AI of an element string becomes a query attribute.
_DL_PRIMARY_KEYS = (
    "01",
    "00",
    "414",
    "417",
    "8003",
    "8004",
    "8017",
    "8018",
    "253",
    "255",
    "401",
    "402",
    "8006",
    "8010",
    "8013",
)
_DL_QUALIFIERS = {"01": ("22", "10", "21"), "414": ("254",)}
_GS1_SYMBOLOGY_PREFIXES = ("]d2", "]Q3", "]C1", "]e0", "]J1")


class DecodeError(LedgerError):
    """No usable code in an image, or its content is not a valid GS1 identifier."""

    http_status = 422


@dataclass(frozen=True)
class Symbol:
    """One decoded QR code or DataMatrix."""

    format: SymbolFormat
    text: str
    """The decoded text as is; GS1 element strings keep their GS (``\\x1d``) separators."""
    symbology_identifier: str
    """ISO/IEC 15424 identifier: ``]Q1`` plain QR, ``]Q3`` GS1 QR, ``]d1`` DataMatrix, ``]d2`` GS1 DataMatrix."""
    identifier: Identifier | None = None
    """The GS1 meaning, or None (see ``problem``)."""
    element_string: str | None = None
    """GS1 HRI of what was read, e.g. ``(01)09521234543213(21)ABC(17)270101``, when it has GS1 meaning."""
    problem: str | None = None
    """Why ``identifier`` is None: not GS1 content, or GS1 content that is invalid."""
    position: tuple[tuple[int, int], ...] = field(default=())
    """Corners (top-left, top-right, bottom-right, bottom-left) in image pixels."""

    @property
    def gs1_symbology(self) -> bool:
        """True when the symbol itself is GS1 (FNC1 in first position)."""
        return self.symbology_identifier in ("]Q3", "]d2")

    @property
    def digital_link(self) -> str | None:
        """The Digital Link the symbol stands for (as read, or built from element strings)."""
        if self.identifier is None:
            return None
        uri = self.identifier.uri
        return uri if uri.startswith(("https://", "http://")) else self.identifier.digital_link


# --- images ---------------------------------------------------------------------


def _open(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (bytes, bytearray, memoryview)):
        if not len(image):
            raise DecodeError("image: empty; expected PNG or JPEG bytes")
        source: io.BytesIO | Path = io.BytesIO(bytes(image))
        name = "image"
    elif isinstance(image, (str, os.PathLike)):
        source = Path(image)
        name = str(source)
        if not source.is_file():
            raise DecodeError(f"image: no such file {name}")
    else:
        raise DecodeError(f"image: expected PNG/JPEG bytes, a path or a Pillow image, got {type(image).__name__}")
    try:
        opened = Image.open(source, formats=IMAGE_FORMATS)
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise DecodeError(
                f"image: {opened.width}x{opened.height} pixels is too large (at most {MAX_IMAGE_PIXELS:,} pixels)"
            )
        opened.load()
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise DecodeError(f"image: {name} is not a readable {'/'.join(IMAGE_FORMATS)} image ({error})") from None
    except OSError as error:
        raise DecodeError(f"image: {name} could not be read: {error}") from None
    return opened


def _grayscale(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are white paper, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L")


def _read(gray: Image.Image) -> list:
    import zxingcpp

    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix)
    results = zxingcpp.read_barcodes(gray, formats=formats, text_mode=zxingcpp.TextMode.Plain)
    if not results:
        # A photo with uneven light or noise: a global threshold sometimes finds what local averaging lost.
        results = zxingcpp.read_barcodes(
            gray, formats=formats, text_mode=zxingcpp.TextMode.Plain, binarizer=zxingcpp.Binarizer.GlobalHistogram
        )
    return list(results)


def decode_image(image: ImageInput) -> list[Symbol]:
    """Every QR code and DataMatrix in ``image``, in the order zxing-cpp finds them.

    Raises :class:`DecodeError` when the image cannot be read or holds no
    QR code or DataMatrix. Symbols without GS1 meaning are returned with
    ``identifier=None`` and ``problem`` set.
    """
    gray = _grayscale(_open(image))
    results = _read(gray)
    if not results:
        raise DecodeError("no QR code or DataMatrix found in the image")
    symbols: list[Symbol] = []
    for result in results:
        import zxingcpp

        is_qr = result.format == zxingcpp.BarcodeFormat.QRCode
        text = result.text
        symid = result.symbology_identifier or ""
        gs1_content = result.content_type == zxingcpp.ContentType.GS1
        identifier = element_string = problem = None
        try:
            if gs1_content:
                identifier, element_string = _from_element_string(symid + _raw_text(result))
            else:
                identifier, element_string = _parse_text(text)
        except DecodeError as error:
            problem = error.message
        position = result.position
        corners = tuple(
            (int(p.x), int(p.y))
            for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
        )
        symbols.append(
            Symbol(
                format="QR" if is_qr else "DataMatrix",
                text=text,
                symbology_identifier=symid,
                identifier=identifier,
                element_string=element_string,
                problem=problem,
                position=corners,
            )
        )
    return symbols


def _raw_text(result) -> str:
    try:
        return result.bytes.decode("ascii")
    except UnicodeDecodeError:
        return result.text


def read_identifier(image: ImageInput) -> Identifier:
    """The one GS1 identifier an image shows (a QR or DataMatrix, or several codes naming the same item).

    Raises :class:`DecodeError` when there is no code, when no code has GS1
    meaning (naming why), or when codes name different items.
    """
    symbols = decode_image(image)
    found: dict[str, Identifier] = {}
    for symbol in symbols:
        if symbol.identifier is not None:
            found.setdefault(symbol.identifier.canonical, symbol.identifier)
    if not found:
        reasons = "; ".join(f"{_describe(s)}: {s.problem}" for s in symbols)
        raise DecodeError(f"no GS1 identifier in the image: {reasons}")
    if len(found) > 1:
        raise DecodeError(
            f"the image holds codes for {len(found)} different items ({', '.join(sorted(found))}); "
            "photograph one item at a time"
        )
    return next(iter(found.values()))


def _describe(symbol: Symbol) -> str:
    shown = symbol.text if len(symbol.text) <= 80 else symbol.text[:77] + "..."
    return f"{symbol.format} {shown!r}"


# --- text -> Identifier -------------------------------------------------------------


def parse_gs1(text: str) -> Identifier:
    """The GS1 identifier a scanned text stands for.

    Accepts a GS1 Digital Link URI, an EPC URN, a bracketed element string
    ``(01)09521234543213(21)ABC(17)270101``, or a raw element string with its
    symbology identifier (``]d2010952...\\x1d17...``). Raises :class:`DecodeError`.
    """
    if not isinstance(text, str):
        raise DecodeError(f"scanned text must be a string, got {type(text).__name__}")
    identifier, _ = _parse_text(text)
    return identifier


def _parse_text(text: str) -> tuple[Identifier, str]:
    stripped = text.strip()
    if stripped.startswith(("https://", "http://", "HTTPS://", "HTTP://")):
        try:
            identifier = parse_digital_link(stripped)
        except InvalidIdentifierError as error:
            raise DecodeError(f"not a valid GS1 Digital Link: {error.reason}") from None
        return identifier, gs1_hri(identifier, spaced=False)
    if stripped.startswith("urn:epc:"):
        try:
            identifier = parse_epc(stripped)
        except InvalidIdentifierError as error:
            raise DecodeError(f"not a valid EPC URN: {error.reason}") from None
        return identifier, gs1_hri(identifier.digital_link, spaced=False)
    if stripped.startswith("(") or stripped.startswith(_GS1_SYMBOLOGY_PREFIXES):
        return _from_element_string(stripped)
    raise DecodeError(
        "not GS1 content: expected a GS1 Digital Link URI (https://.../01/<gtin>...), "
        "GS1 element strings such as (01)<gtin>(21)<serial>, or an EPC URN"
    )


def _from_element_string(text: str) -> tuple[Identifier, str]:
    """Parse bracketed or raw (``]d2``-prefixed) element strings into an Identifier via its Digital Link."""
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text)
        else:
            result = biip.parse(text)
            if result.gs1_message is None:
                raise DecodeError(f"GS1 element strings could not be parsed: {result.gs1_message_error}")
            message = result.gs1_message
    except biip.ParseError as error:
        raise DecodeError(f"GS1 element strings could not be parsed: {error}") from None
    elements = [(es.ai.ai, es.value) for es in message.element_strings]
    uri = element_strings_to_digital_link(elements)
    try:
        identifier = parse_digital_link(uri)
    except InvalidIdentifierError as error:
        raise DecodeError(f"GS1 element strings {message.as_hri()}: {error.reason}") from None
    return identifier, message.as_hri()


def element_strings_to_digital_link(elements: Iterable[tuple[str, str]], *, host: str = DIGITAL_LINK_HOST) -> str:
    """The GS1 Digital Link URI of element strings given as ``(AI, value)``.

    The one primary key and its key qualifiers go in the path in the
    standard's order (``/01/{gtin}/22/{cpv}/10/{lot}/21/{serial}``); every
    other AI becomes a query attribute (``?17=270101``), in the order given.
    Raises :class:`DecodeError` when there is no primary key or more than one.
    """
    pairs = list(elements)
    keys = [(ai, value) for ai, value in pairs if ai in _DL_PRIMARY_KEYS]
    if not keys:
        shown = "".join(f"({ai})" for ai, _ in pairs) or "nothing"
        raise DecodeError(
            f"GS1 element strings {shown} have no primary key such as (01) GTIN or (00) SSCC, so they name no item"
        )
    if len(keys) > 1:
        raise DecodeError(
            "GS1 element strings hold more than one primary key "
            f"({', '.join(f'({ai}) {value}' for ai, value in keys)}); a Digital Link has exactly one"
        )
    primary_ai, primary_value = keys[0]
    qualifier_ais = _DL_QUALIFIERS.get(primary_ai, ())
    by_ai = {}
    for ai, value in pairs:
        if ai in by_ai and by_ai[ai] != value:
            raise DecodeError(f"GS1 element strings give ({ai}) twice with different values")
        by_ai[ai] = value
    path = f"/{primary_ai}/{_q(primary_value)}" + "".join(
        f"/{ai}/{_q(by_ai[ai])}" for ai in qualifier_ais if ai in by_ai
    )
    seen = {primary_ai, *qualifier_ais}
    query = []
    for ai, value in pairs:
        if ai not in seen:
            seen.add(ai)
            query.append(f"{ai}={_q(value)}")
    return host + path + ("?" + "&".join(query) if query else "")


def _q(value: str) -> str:
    return quote(value, safe="")
