"""QR labels for GS1 Digital Link URIs: PNG, SVG and A4 sheets.

A label is the QR code of a Digital Link (error correction level M, a quiet
zone of 4 modules) with the GS1 human-readable interpretation (HRI) under
it, e.g. ``(01) 09521000000101 (10) HV-1 (17) 270101``, and an optional
caption line (a product name). The HRI is derived from the Digital Link: the
primary key and its qualifiers in the order of the standard (``01``, ``22``,
``10``, ``21``; ``414``, ``254``), then the query attributes that are GS1
Application Identifiers (``17`` expiry...), sorted by AI.

The QR code holds the URI exactly as given (brand host, path prefix and
``linkType`` parameters included), once it has passed
:func:`~ledger.epcis.identifiers.parse_digital_link`; a URI that does not
raises :class:`LabelError` naming the field (``uri``, ``uris[3]``...).

Sizes are physical: ``width_mm`` (30 mm by default) at ``dpi`` (300). The
QR is drawn with a whole number of pixels per module, so it is crisp on a
printer of that resolution. Text uses the DejaVu fonts shipped in
``scanner/fonts`` (Sans Mono for the HRI, so 0/O and 1/l/I differ; Sans for
captions), falling back to Pillow's built-in scalable font if they are
missing; ``font=`` takes any TrueType/OpenType file, e.g. one with CJK
glyphs for Chinese product names. A raster label refuses a caption with a
character its font cannot draw rather than printing empty boxes.

``label_sheet`` lays labels out on A4 pages (a grid of ``columns``, cut
guides between cells) as a PDF (one page per N labels; bi-level images,
CCITT G4, lossless) or a single-page PNG.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont, features

from ledger.epcis.errors import InvalidIdentifierError
from ledger.epcis.identifiers import Identifier, parse_digital_link, parse_epc
from ledger.errors import LedgerError

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_WIDTH_MM",
    "QUIET_ZONE_MODULES",
    "LabelError",
    "default_label_name",
    "digital_link_identifier",
    "gs1_hri",
    "hri_elements",
    "label_image",
    "label_png",
    "label_sheet",
    "label_svg",
    "write_label",
    "write_sheet",
]

DEFAULT_WIDTH_MM = 30.0
DEFAULT_DPI = 300
QUIET_ZONE_MODULES = 4
HRI_POINTS = 7.0
"""HRI text size (points) when it fits; shrunk to fit the label width."""
HRI_SHRINK_TO_SAVE_A_LINE = 0.85
"""The HRI may shrink to this fraction of its size if that makes it take fewer lines."""
CAPTION_POINTS = 7.0
MIN_POINTS = 3.5
MIN_MODULE_PX = 2
"""A module narrower than 2 printer dots does not survive printing."""

A4_MM = (210.0, 297.0)
SHEET_MARGIN_MM = 10.0
MAX_SHEET_LABELS = 5000
MAX_COLUMNS = 12

FONT_DIR = Path(__file__).with_name("fonts")
HRI_FONT = FONT_DIR / "DejaVuSansMono.ttf"
CAPTION_FONT = FONT_DIR / "DejaVuSans.ttf"
SVG_HRI_FAMILY = "'DejaVu Sans Mono', 'OCR B', Consolas, 'Courier New', monospace"
SVG_CAPTION_FAMILY = "'DejaVu Sans', Helvetica, Arial, sans-serif"

MM_PER_INCH = 25.4
FontSpec = str | os.PathLike[str] | None
_QUALIFIER_ORDER = {"01": ("22", "10", "21"), "414": ("254",)}


class LabelError(LedgerError):
    """A label cannot be made from what was given; ``field`` names the input at fault."""

    http_status = 400

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


# --- GS1 HRI -----------------------------------------------------------------


def digital_link_identifier(uri: object, *, field: str = "uri") -> Identifier:
    """Parse ``uri`` as a GS1 Digital Link, or raise :class:`LabelError` naming ``field``."""
    if isinstance(uri, Identifier):
        return uri
    if not isinstance(uri, str):
        raise LabelError(field, f"a GS1 Digital Link URI must be a string, got {type(uri).__name__}")
    if uri.startswith("urn:epc:"):
        hint = ""
        try:
            hint = f"; its Digital Link is {parse_epc(uri).digital_link}"
        except InvalidIdentifierError:
            pass
        raise LabelError(field, f"{uri!r} is an EPC URN, not a GS1 Digital Link URI{hint}")
    try:
        return parse_digital_link(uri)
    except InvalidIdentifierError as error:
        raise LabelError(field, f"not a valid GS1 Digital Link URI: {error.reason} (got {_clip(uri)!r})") from None


def hri_elements(identifier: Identifier | str) -> list[tuple[str, str]]:
    """The GS1 element strings of a Digital Link as ``(AI, value)``, in HRI order.

    Primary key, then its key qualifiers in the standard's order, then the
    query attributes that are GS1 AIs (sorted by AI, as on the Identifier).
    """
    ident = digital_link_identifier(identifier)
    elements: list[tuple[str, str]] = [(ident.ai, ident.key)]
    values = {"22": ident.cpv, "10": ident.lot, "21": ident.serial, "254": ident.gln_extension}
    for ai in _QUALIFIER_ORDER.get(ident.ai, ()):
        if values.get(ai) is not None:
            elements.append((ai, values[ai]))
    elements.extend(ident.attributes)
    return elements


def gs1_hri(identifier: Identifier | str, *, spaced: bool = True) -> str:
    """GS1 HRI text: ``(01) 09521000000101 (10) HV-1 (17) 270101``.

    ``spaced=False`` gives the compact form scanners print,
    ``(01)09521000000101(10)HV-1(17)270101``.
    """
    if spaced:
        return " ".join(f"({ai}) {value}" for ai, value in hri_elements(identifier))
    return "".join(f"({ai}){value}" for ai, value in hri_elements(identifier))


# --- layout -------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    text: str
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    size: int
    baseline: int
    width: float
    family: str


@dataclass(frozen=True)
class _Layout:
    uri: str
    width: int
    height: int
    module: int
    origin: tuple[int, int]
    matrix: tuple[tuple[bool, ...], ...]
    lines: tuple[_Line, ...]
    dpi: int

    @property
    def version(self) -> int:
        return (len(self.matrix) - 17) // 4


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _points_to_px(points: float, dpi: int) -> int:
    return max(1, round(points * dpi / 72))


def _mm_to_px(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


@functools.lru_cache(maxsize=256)
def _load_font(path: str | None, fallback: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    candidate = path or fallback
    if candidate and Path(candidate).is_file():
        try:
            return ImageFont.truetype(candidate, size)
        except OSError as error:
            raise LabelError("font", f"cannot load {candidate} as a TrueType/OpenType font: {error}") from None
    if path:
        raise LabelError("font", f"no font file at {path}")
    if not features.check("freetype2"):
        raise LabelError("font", "this Pillow build has no FreeType support, so labels cannot draw text")
    return ImageFont.load_default(size=size)


def _font(font: FontSpec, fallback: Path, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _load_font(os.fspath(font) if font is not None else None, str(fallback), size)


def _family(font: FontSpec, default: str, loaded: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """CSS font-family for the SVG: a caller's font first, then the shipped one and generic fallbacks."""
    if font is not None and isinstance(loaded, ImageFont.FreeTypeFont) and loaded.getname()[0]:
        return f"'{loaded.getname()[0]}', {default}"
    return default


def _missing_glyphs(loaded: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> list[str]:
    """Characters of ``text`` the font would draw as its 'missing glyph' box."""

    def bitmap(char: str) -> tuple[tuple[int, int], bytes]:
        mask = loaded.getmask(char)
        return mask.size, bytes(mask)

    notdef = {bitmap("\uffff"), bitmap("\U0010fffd")}
    missing: list[str] = []
    for char in dict.fromkeys(text):
        if char.isspace() or char in missing:
            continue
        if bitmap(char) in notdef:
            missing.append(char)
    return missing


def _fit_size(font: FontSpec, fallback: Path, texts: Sequence[str], width: int, start: int, smallest: int) -> int:
    """Largest size from ``start`` down to ``smallest`` at which every text fits ``width``."""
    size = start
    while size > smallest and max(_font(font, fallback, size).getlength(t) for t in texts) > width:
        size -= 1
    return size


def _pack(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, words: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _qr_matrix(uri: str) -> tuple[tuple[bool, ...], ...]:
    import qrcode
    from qrcode.exceptions import DataOverflowError

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    try:
        code.add_data(uri.encode("utf-8"))
        code.make(fit=True)
    except (DataOverflowError, ValueError) as error:
        raise LabelError(
            "uri", f"too long for a QR code at error correction level M ({len(uri)} characters): {error}"
        ) from None
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def _check_size(width_mm: float, dpi: int) -> None:
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 72 <= dpi <= 2400:
        raise LabelError("dpi", f"must be a whole number from 72 to 2400, got {dpi!r}")
    if not isinstance(width_mm, (int, float)) or isinstance(width_mm, bool) or not 8 <= width_mm <= 200:
        raise LabelError("width_mm", f"must be from 8 to 200 (millimetres), got {width_mm!r}")


def _layout(
    uri: object,
    *,
    caption: str | None,
    width_mm: float,
    dpi: int,
    font: FontSpec,
    field: str,
    check_glyphs: bool,
    size_field: str = "width_mm",
) -> _Layout:
    _check_size(width_mm, dpi)
    ident = digital_link_identifier(uri, field=field)
    # The QR holds the URI as given; an Identifier parsed from a URN gets its Digital Link.
    text = ident.uri if ident.uri.startswith(("https://", "http://")) else ident.digital_link
    matrix = _qr_matrix(text)
    modules = len(matrix) + 2 * QUIET_ZONE_MODULES
    width = _mm_to_px(width_mm, dpi)
    module = width // modules
    if module < MIN_MODULE_PX:
        need = modules * MIN_MODULE_PX * MM_PER_INCH / dpi
        raise LabelError(
            size_field,
            f"a {width_mm:g} mm label at {dpi} dpi is too small for this URI's QR code "
            f"(version {(len(matrix) - 17) // 4}, {modules} modules with the quiet zone): "
            f"it needs at least {math.ceil(need)} mm; shorten the URI or make the label wider",
        )
    side = modules * module
    origin = ((width - side) // 2 + QUIET_ZONE_MODULES * module, QUIET_ZONE_MODULES * module)
    pad = 2 * module
    room = width - 2 * pad

    lines: list[_Line] = []
    y = side  # the bottom quiet zone ends here; text starts below it
    smallest = _points_to_px(MIN_POINTS, dpi)

    elements = [f"({ai}) {value}" for ai, value in hri_elements(ident)]
    size = _fit_size(font, HRI_FONT, elements, room, _points_to_px(HRI_POINTS, dpi), smallest)
    # A slightly smaller size is worth it when it saves a line.
    fewest = len(_pack(_font(font, HRI_FONT, size), elements, room))
    for smaller in range(size - 1, max(smallest, math.ceil(size * HRI_SHRINK_TO_SAVE_A_LINE)) - 1, -1):
        count = len(_pack(_font(font, HRI_FONT, smaller), elements, room))
        if count < fewest:
            size, fewest = smaller, count
    hri_font = _font(font, HRI_FONT, size)
    family = _family(font, SVG_HRI_FAMILY, hri_font)
    y = _add_lines(lines, _pack(hri_font, elements, room), hri_font, size, y, family)

    if caption is not None:
        if not isinstance(caption, str):
            raise LabelError("caption", f"must be text, got {type(caption).__name__}")
        caption = " ".join(caption.split())
        if len(caption) > 200:
            raise LabelError("caption", f"is {len(caption)} characters long; a label caption holds at most 200")
    if caption:
        start = _points_to_px(CAPTION_POINTS, dpi)
        words = caption.split(" ")
        # Shrink until the words fit in two lines, then wrap; ellipsize what is left.
        size = start
        while size > smallest:
            cap_font = _font(font, CAPTION_FONT, size)
            if len(_pack(cap_font, words, room)) <= 2 and max(cap_font.getlength(w) for w in words) <= room:
                break
            size -= 1
        cap_font = _font(font, CAPTION_FONT, size)
        if check_glyphs:
            missing = _missing_glyphs(cap_font, caption)
            if missing:
                shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:5])
                raise LabelError(
                    "caption",
                    f"the label font cannot draw {shown}; pass a TrueType font that has these characters "
                    "(font= / --font), e.g. a Noto Sans CJK file for Chinese",
                )
        wrapped = _pack(cap_font, words, room)
        if len(wrapped) > 2 or any(cap_font.getlength(line) > room for line in wrapped):
            wrapped = wrapped[:2]
            last = wrapped[-1]
            while last and cap_font.getlength(last + "...") > room:
                last = last[:-1]
            wrapped[-1] = last.rstrip() + "..."
        y += size // 3
        y = _add_lines(lines, wrapped, cap_font, size, y, _family(font, SVG_CAPTION_FAMILY, cap_font))

    height = y + pad
    return _Layout(text, width, height, module, origin, matrix, tuple(lines), dpi)


def _add_lines(
    lines: list[_Line],
    texts: Sequence[str],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    size: int,
    top: int,
    family: str,
) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
    else:  # pragma: no cover - bitmap font
        ascent, descent = size, size // 4
    step = round((ascent + descent) * 1.1)
    baseline = top + ascent
    for text in texts:
        lines.append(_Line(text, font, size, baseline, font.getlength(text), family))
        baseline += step
    return baseline - step + descent


# --- rendering ------------------------------------------------------------------


def _draw(layout: _Layout) -> Image.Image:
    image = Image.new("L", (layout.width, layout.height), 255)
    draw = ImageDraw.Draw(image)
    m = layout.module
    ox, oy = layout.origin
    for r, row in enumerate(layout.matrix):
        for x0, x1 in _runs(row):
            draw.rectangle((ox + x0 * m, oy + r * m, ox + x1 * m - 1, oy + (r + 1) * m - 1), fill=0)
    for line in layout.lines:
        draw.text((layout.width / 2, line.baseline), line.text, font=line.font, fill=0, anchor="ms")
    return image


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """Dark runs of a matrix row as half-open ``(start, end)`` column ranges."""
    runs: list[tuple[int, int]] = []
    start = None
    for c, dark in enumerate(row):
        if dark and start is None:
            start = c
        elif not dark and start is not None:
            runs.append((start, c))
            start = None
    if start is not None:
        runs.append((start, len(row)))
    return runs


def label_image(
    uri: str,
    *,
    caption: str | None = None,
    width_mm: float = DEFAULT_WIDTH_MM,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> Image.Image:
    """The label as a Pillow image (mode ``L``), ``width_mm`` wide at ``dpi``."""
    layout = _layout(uri, caption=caption, width_mm=width_mm, dpi=dpi, font=font, field="uri", check_glyphs=True)
    image = _draw(layout)
    image.info["dpi"] = (dpi, dpi)
    return image


def label_png(
    uri: str,
    *,
    caption: str | None = None,
    width_mm: float = DEFAULT_WIDTH_MM,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> bytes:
    """PNG bytes of the label (grayscale, with its ``dpi`` recorded so it prints at ``width_mm``)."""
    image = label_image(uri, caption=caption, width_mm=width_mm, dpi=dpi, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def label_svg(
    uri: str,
    *,
    caption: str | None = None,
    width_mm: float = DEFAULT_WIDTH_MM,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> str:
    """SVG text of the label, ``width_mm`` wide.

    Geometry is in pixels at ``dpi`` (the viewBox), the same grid as the PNG,
    so the modules stay whole. The QR is one ``<path>`` of rectangles; text
    lines are ``<text>`` elements whose ``textLength`` pins them to the width
    measured with the label font, whatever font the viewer substitutes.
    """
    layout = _layout(uri, caption=caption, width_mm=width_mm, dpi=dpi, font=font, field="uri", check_glyphs=False)
    m = layout.module
    ox, oy = layout.origin
    path = "".join(
        f"M{ox + x0 * m},{oy + r * m}h{(x1 - x0) * m}v{m}h-{(x1 - x0) * m}z"
        for r, row in enumerate(layout.matrix)
        for x0, x1 in _runs(row)
    )
    width_mm_exact = layout.width * MM_PER_INCH / dpi
    height_mm_exact = layout.height * MM_PER_INCH / dpi
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width_mm_exact:.2f}mm" '
            f'height="{height_mm_exact:.2f}mm" viewBox="0 0 {layout.width} {layout.height}">\n'
        ),
        f"<title>{escape(layout.uri)}</title>\n",
        f'<rect width="{layout.width}" height="{layout.height}" fill="#fff"/>\n',
        f'<path fill="#000" shape-rendering="crispEdges" d="{path}"/>\n',
    ]
    for line in layout.lines:
        parts.append(
            f'<text x="{layout.width / 2:g}" y="{line.baseline}" font-family={quoteattr(line.family)} '
            f'font-size="{line.size}" text-anchor="middle" textLength="{line.width:.1f}" '
            f'lengthAdjust="spacingAndGlyphs" fill="#000">{escape(line.text)}</text>\n'
        )
    parts.append("</svg>\n")
    return "".join(parts)


# --- sheets -----------------------------------------------------------------------


def label_sheet(
    uris: Sequence[str],
    *,
    columns: int = 4,
    fmt: Literal["pdf", "png"] = "pdf",
    caption: str | Sequence[str | None] | None = None,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> bytes:
    """A4 sheet(s) of labels, ``columns`` to a row, as PDF or PNG bytes.

    Every cell holds one label (QR + HRI + caption) as wide as the cell;
    rows are as tall as the tallest label; as many rows as fit go on a page
    and the PDF gets as many pages as needed. ``caption`` is one caption for
    every label or one per URI. ``fmt="png"`` holds a single page and raises
    :class:`LabelError` if the labels need more.
    """
    if fmt not in ("pdf", "png"):
        raise LabelError("fmt", f"must be 'pdf' or 'png', got {fmt!r}")
    if isinstance(uris, str) or not isinstance(uris, Sequence):
        raise LabelError("uris", "must be a list of GS1 Digital Link URIs")
    if not uris:
        raise LabelError("uris", "a sheet needs at least one URI")
    if len(uris) > MAX_SHEET_LABELS:
        raise LabelError("uris", f"{len(uris)} labels in one sheet; at most {MAX_SHEET_LABELS}, split the run")
    if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= MAX_COLUMNS:
        raise LabelError("columns", f"must be a whole number from 1 to {MAX_COLUMNS}, got {columns!r}")
    if caption is None or isinstance(caption, str):
        captions: list[str | None] = [caption] * len(uris)
    else:
        captions = list(caption)
        if len(captions) != len(uris):
            raise LabelError("caption", f"{len(captions)} captions for {len(uris)} URIs; give one, or one per URI")
    _check_size(DEFAULT_WIDTH_MM, dpi)

    page_w, page_h = (_mm_to_px(v, dpi) for v in A4_MM)
    margin = _mm_to_px(SHEET_MARGIN_MM, dpi)
    cell_w = (page_w - 2 * margin) // columns
    inset = max(1, _mm_to_px(1.0, dpi))
    label_mm = (cell_w - 2 * inset) * MM_PER_INCH / dpi

    labels: list[Image.Image] = []
    for index, (uri, cap) in enumerate(zip(uris, captions, strict=True)):
        layout = _layout(
            uri,
            caption=cap,
            width_mm=max(label_mm, 8.0),
            dpi=dpi,
            font=font,
            field=f"uris[{index}]",
            check_glyphs=True,
            size_field="columns",
        )
        labels.append(_draw(layout))
    cell_h = max(label.height for label in labels) + 2 * inset
    rows = (page_h - 2 * margin) // cell_h
    if rows < 1:  # pragma: no cover - a label taller than a page cannot happen at <= 12 columns
        raise LabelError("columns", "labels are taller than the page")
    per_page = rows * columns
    page_count = math.ceil(len(labels) / per_page)
    if fmt == "png" and page_count > 1:
        raise LabelError(
            "fmt",
            f"{len(labels)} labels need {page_count} A4 pages at {columns} columns "
            f"({per_page} a page); a PNG holds one page: use fmt='pdf' (--out FILE.pdf)",
        )

    footer_font = _font(None, CAPTION_FONT, _points_to_px(7, dpi))
    pages: list[Image.Image] = []
    for number in range(page_count):
        chunk = labels[number * per_page : (number + 1) * per_page]
        page = Image.new("L", (page_w, page_h), 255)
        draw = ImageDraw.Draw(page)
        used_rows = math.ceil(len(chunk) / columns)
        _cut_guides(draw, margin, margin, cell_w, cell_h, columns, used_rows, dpi)
        for i, label in enumerate(chunk):
            r, c = divmod(i, columns)
            page.paste(label, (margin + c * cell_w + inset, margin + r * cell_h + inset))
        draw.text(
            (page_w / 2, page_h - margin // 2),
            f"page {number + 1} of {page_count} · {len(labels)} labels",
            font=footer_font,
            fill=0,
            anchor="ms",
        )
        pages.append(page)

    out = io.BytesIO()
    if fmt == "png":
        pages[0].save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
        return out.getvalue()
    # Bi-level pages go into the PDF losslessly (CCITT G4); grayscale would be JPEG.
    lossless = features.check("libtiff")
    pdf_pages = [p.convert("1", dither=Image.Dither.NONE) if lossless else p for p in pages]
    options: dict[str, object] = {} if lossless else {"quality": 95}
    pdf_pages[0].save(
        out,
        format="PDF",
        save_all=True,
        append_images=pdf_pages[1:],
        resolution=float(dpi),
        title="traceledger labels",
        creator="traceledger",
        **options,
    )
    return out.getvalue()


def _cut_guides(
    draw: ImageDraw.ImageDraw, x0: int, y0: int, cell_w: int, cell_h: int, columns: int, rows: int, dpi: int
) -> None:
    """Dashed 1-pixel lines on the cell boundaries (outside every label's quiet zone)."""
    dash, gap = _mm_to_px(1.0, dpi), _mm_to_px(1.5, dpi)
    x1, y1 = x0 + columns * cell_w, y0 + rows * cell_h
    for c in range(columns + 1):
        x = x0 + c * cell_w
        for y in range(y0, y1, dash + gap):
            draw.line((x, y, x, min(y + dash, y1)), fill=0)
    for r in range(rows + 1):
        y = y0 + r * cell_h
        for x in range(x0, x1, dash + gap):
            draw.line((x, y, min(x + dash, x1), y), fill=0)


# --- files (the CLI) ----------------------------------------------------------------


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def default_label_name(uri: str, suffix: str = ".png") -> str:
    """A file name for a label, from the canonical key: ``qr-01-09521000000101-21-ABC.png``."""
    ident = digital_link_identifier(uri)
    stem = _SAFE_NAME.sub("-", ident.canonical.strip("/").replace("/", "-")).strip("-")
    return f"qr-{stem[:120]}{suffix}"


def _target(out: Path, allowed: tuple[str, ...]) -> str:
    suffix = out.suffix.lower()
    if suffix not in allowed:
        raise LabelError("out", f"{out} must end in {' or '.join(allowed)}")
    if not out.parent.is_dir():
        raise LabelError("out", f"directory {out.parent} does not exist")
    return suffix


def write_label(
    uri: str,
    out: Path | str,
    *,
    caption: str | None = None,
    width_mm: float = DEFAULT_WIDTH_MM,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> Path:
    """Write one label to ``out``; ``.png`` or ``.svg`` picks the format."""
    out = Path(out)
    suffix = _target(out, (".png", ".svg"))
    if suffix == ".svg":
        out.write_text(label_svg(uri, caption=caption, width_mm=width_mm, dpi=dpi, font=font), encoding="utf-8")
    else:
        out.write_bytes(label_png(uri, caption=caption, width_mm=width_mm, dpi=dpi, font=font))
    return out


def write_sheet(
    uris: Sequence[str],
    out: Path | str,
    *,
    columns: int = 4,
    caption: str | Sequence[str | None] | None = None,
    dpi: int = DEFAULT_DPI,
    font: FontSpec = None,
) -> Path:
    """Write an A4 sheet of labels to ``out``; ``.pdf`` or ``.png`` picks the format."""
    out = Path(out)
    suffix = _target(out, (".pdf", ".png"))
    data = label_sheet(
        uris, columns=columns, fmt="pdf" if suffix == ".pdf" else "png", caption=caption, dpi=dpi, font=font
    )
    out.write_bytes(data)
    return out
