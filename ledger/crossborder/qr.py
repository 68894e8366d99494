"""A QR code for any URL (the trader credential), with text lines under it, as PNG or SVG.

``scanner.labels`` draws GS1 Digital Links with their GS1 HRI; a trader's
credential points to a plain URL (its check page) and shows the USCC and the
trader's name instead. Same conventions: error correction M, a quiet zone of
4 modules, whole pixels per module, the DejaVu fonts shipped in
``scanner/fonts``.

Names may be Chinese. The SVG carries text as text (the viewer's fonts draw
it). The PNG draws a line only if a font can: DejaVu, then the first CJK font
found (``TRACELEDGER_CJK_FONT``, then common Noto/WenQuanYi/Droid paths); a
line no font can draw is left out of the PNG rather than printed as boxes.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.exceptions import DataOverflowError

from ledger.errors import LedgerError
from scanner.labels import CAPTION_FONT, HRI_FONT, QUIET_ZONE_MODULES

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
SVG_FAMILY = "'DejaVu Sans', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
SVG_MONO_FAMILY = "'DejaVu Sans Mono', Consolas, 'Courier New', monospace"
MAX_MODULE_PX = 40


class QrError(LedgerError):
    """The QR cannot be made (the text is too long, a bad size)."""

    http_status = 400


def qr_matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    try:
        code.add_data(text.encode("utf-8"))
        code.make(fit=True)
    except (DataOverflowError, ValueError) as error:
        raise QrError(f"url: too long for a QR code ({len(text)} characters): {error}") from None
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for column, dark in enumerate(row):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            runs.append((start, column))
            start = None
    if start is not None:
        runs.append((start, len(row)))
    return runs


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if Path(path).is_file():
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _draws(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> bool:
    """Whether ``font`` has a glyph for every visible character of ``text``."""
    def mask(char: str) -> tuple[tuple[int, int], bytes]:
        m = font.getmask(char)
        return m.size, bytes(m)

    missing = {mask("\uffff"), mask("\U0010fffd")}
    return all(char.isspace() or mask(char) not in missing for char in set(text))


def _font_for(text: str, preferred: Path, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont | None:
    candidates = [str(preferred)]
    if os.environ.get("TRACELEDGER_CJK_FONT"):
        candidates.append(os.environ["TRACELEDGER_CJK_FONT"])
    candidates.extend(CJK_FONT_CANDIDATES)
    for path in candidates:
        if not Path(path).is_file():
            continue
        font = _font(path, size)
        if _draws(font, text):
            return font
    return None


def _geometry(matrix: list[list[bool]], module: int) -> tuple[int, int]:
    if not isinstance(module, int) or isinstance(module, bool) or not 2 <= module <= MAX_MODULE_PX:
        raise QrError(f"module: must be a whole number of pixels from 2 to {MAX_MODULE_PX}, got {module!r}")
    side = (len(matrix) + 2 * QUIET_ZONE_MODULES) * module
    return side, QUIET_ZONE_MODULES * module


def _clean(lines: Sequence[str | None]) -> list[tuple[int, str]]:
    """(line number, text): the first line (the code) in mono, the others in sans."""
    return [(n, " ".join(str(t).split())) for n, t in enumerate(lines) if t and str(t).strip()]


def _svg_size(text: str, base: int, room: int) -> int:
    """A font size at which ``text`` roughly fits ``room`` (CJK glyphs are about 1 em wide, others 0.6)."""
    ems = sum(1.0 if ord(char) >= 0x2E80 else 0.6 for char in text) or 1.0
    return max(6, min(base, int(room / ems)))


def qr_png(url: str, lines: Sequence[str | None] = (), *, module: int = 8) -> bytes:
    """PNG bytes: the QR of ``url`` and ``lines`` centred under it (first line monospaced)."""
    matrix = qr_matrix(url)
    side, quiet = _geometry(matrix, module)
    base, room = max(12, module * 2), side - 2 * module
    drawn = []
    for number, text in _clean(lines):
        preferred, size = (HRI_FONT if number == 0 else CAPTION_FONT), base
        font = _font_for(text, preferred, size)
        if font is None:
            continue
        while size > 6 and font.getlength(text) > room:
            size -= 1
            font = _font_for(text, preferred, size) or font
        drawn.append((text, font, round(size * 1.4)))
    height = side + (sum(step for *_, step in drawn) + module * 2 if drawn else 0)
    image = Image.new("L", (side, height), 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(matrix):
        for x0, x1 in _runs(row):
            draw.rectangle((quiet + x0 * module, quiet + r * module, quiet + x1 * module - 1,
                            quiet + (r + 1) * module - 1), fill=0)
    baseline = side
    for text, font, step in drawn:
        baseline += step
        draw.text((side / 2, baseline - step // 4), text, font=font, fill=0, anchor="ms")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_svg(url: str, lines: Sequence[str | None] = (), *, module: int = 8) -> str:
    """SVG text: the QR of ``url`` as one path, ``lines`` as text under it (escaped)."""
    matrix = qr_matrix(url)
    side, quiet = _geometry(matrix, module)
    base, room = max(12, module * 2), side - 2 * module
    cleaned = [(number, text, _svg_size(text, base, room)) for number, text in _clean(lines)]
    height = side + (sum(round(size * 1.4) for *_, size in cleaned) + module * 2 if cleaned else 0)
    path = "".join(f"M{quiet + x0 * module},{quiet + r * module}h{(x1 - x0) * module}v{module}h-{(x1 - x0) * module}z"
                   for r, row in enumerate(matrix) for x0, x1 in _runs(row))
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{side}" height="{height}" '
         f'viewBox="0 0 {side} {height}">\n'),
        f"<title>{escape(url)}</title>\n",
        f'<rect width="{side}" height="{height}" fill="#fff"/>\n',
        f'<path fill="#000" shape-rendering="crispEdges" d="{path}"/>\n',
    ]
    baseline = side
    for number, text, size in cleaned:
        step = round(size * 1.4)
        baseline += step
        family = SVG_MONO_FAMILY if number == 0 else SVG_FAMILY
        parts.append(f'<text x="{side / 2:g}" y="{baseline - step // 4}" font-family={quoteattr(family)} '
                     f'font-size="{size}" text-anchor="middle" fill="#000">{escape(text)}</text>\n')
    parts.append("</svg>\n")
    return "".join(parts)
