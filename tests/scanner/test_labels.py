"""QR labels: render -> decode round trips, HRI text, SVG, sheets, errors, the CLI.

Example outputs land in ``test-output/labels/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from ledger.epcis.identifiers import parse_digital_link
from ledger.errors import LedgerError
from scanner import labels
from scanner.decode import decode_image, read_identifier
from scanner.labels import (
    LabelError,
    gs1_hri,
    hri_elements,
    label_image,
    label_png,
    label_sheet,
    label_svg,
    write_label,
    write_sheet,
)

OUT = Path(__file__).resolve().parents[2] / "test-output" / "labels"
SVG_NS = {"svg": "http://www.w3.org/2000/svg"}

SGTIN = "https://id.gs1.org/01/09521234543213/21/ABC-123"
LGTIN = "https://id.gs1.org/01/09521000000100/10/HV-1?17=270101"
SSCC = "https://id.gs1.org/00/095212345000000018"
ROUND_TRIPS = {
    "sgtin": SGTIN,
    "lgtin-expiry": LGTIN,
    "sscc": SSCC,
    "sgtin-lot-expiry": "https://id.gs1.org/01/09521234543213/10/LOT%2F7/21/S0001?17=261231",
    "brand-host": "https://brand.example/p/01/9521234543213/10/A1?linkType=gs1:pip&15=260630",
    "sgln-extension": "https://id.gs1.org/414/9521234000006/254/DOCK-2",
    "long-serial": "https://id.gs1.org/01/09521234543213/10/ABCDEFGHIJ0123456789/21/ZYXWVUTSRQ9876543210?17=291231",
}


@pytest.fixture(scope="module")
def out_dir() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT


def _only_symbol(image):
    symbols = decode_image(image)
    assert len(symbols) == 1, symbols
    return symbols[0]


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_png_round_trip(name: str, out_dir: Path) -> None:
    uri = ROUND_TRIPS[name]
    png = label_png(uri, caption=f"example {name}")
    (out_dir / f"label-{name}.png").write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    symbol = _only_symbol(png)
    assert symbol.format == "QR"
    assert symbol.text == uri  # the QR holds the URI exactly as given
    expected = parse_digital_link(uri)
    assert symbol.identifier == expected
    assert symbol.identifier.attributes == expected.attributes
    assert symbol.identifier.lot == expected.lot and symbol.identifier.expiry == expected.expiry
    assert symbol.element_string == gs1_hri(uri, spaced=False)


def test_png_is_level_m_with_a_four_module_quiet_zone_at_30mm_300dpi() -> None:
    image = Image.open(io.BytesIO(label_png(LGTIN)))
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert image.width == round(30 / 25.4 * 300)  # 354 px = 30 mm at 300 dpi

    (result,) = zxingcpp.read_barcodes(image)
    assert result.ec_level == "M"
    modules = 17 + 4 * int(result.extra["Version"])

    # The code's dark modules: bounding box of the black pixels above the text.
    pixels = image.load()
    dark_rows = [y for y in range(image.height) if any(pixels[x, y] < 128 for x in range(image.width))]
    top = dark_rows[0]
    columns = [x for x in range(image.width) if pixels[x, top] < 128]
    left, right = columns[0], columns[-1]
    module = (right - left + 1) / modules
    assert module == int(module) and module >= 2  # whole pixels per module
    assert top == 4 * module  # quiet zone above
    assert left >= 4 * module and image.width - 1 - right >= 4 * module  # and at the sides
    bottom = top + modules * module  # first row under the code
    quiet = [y for y in dark_rows if bottom <= y < bottom + 4 * module]
    assert not quiet, "the HRI text must not enter the quiet zone under the code"


def test_svg_is_well_formed_with_hri_text_and_decodes_when_rasterised(out_dir: Path) -> None:
    svg = label_svg(LGTIN, caption="Hami melon")
    (out_dir / "label-lgtin-expiry.svg").write_text(svg, encoding="utf-8")

    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width").removesuffix("mm")) == pytest.approx(30, abs=0.1)
    assert root.find("svg:title", SVG_NS).text == LGTIN
    texts = [t.text for t in root.findall("svg:text", SVG_NS)]
    assert " ".join(texts) == "(01) 09521000000100 (10) HV-1 (17) 270101 Hami melon"

    # Rasterise the QR path (only rectangles: M x,y h w v h h-w z) and read it back.
    _, _, width, height = (int(v) for v in root.get("viewBox").split())
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    d = root.find("svg:path", SVG_NS).get("d")
    rects = re.findall(r"M(\d+),(\d+)h(\d+)v(\d+)h-\d+z", d)
    assert len("".join("".join(r) for r in rects)) > 0 and d.count("M") == len(rects)
    for x, y, w, h in ((int(v) for v in r) for r in rects):
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    symbol = _only_symbol(image)
    assert symbol.text == LGTIN
    assert symbol.identifier == parse_digital_link(LGTIN)

    # The same grid as the PNG, pixel for pixel in the code.
    png = Image.open(io.BytesIO(label_png(LGTIN, caption="Hami melon")))
    assert png.size == (width, height)
    code_box = (0, 0, width, max(int(y) + int(h) for _, y, _, h in rects))
    assert image.crop(code_box).tobytes() == png.crop(code_box).point(lambda v: 0 if v < 128 else 255).tobytes()


def test_svg_escapes_text() -> None:
    svg = label_svg(SGTIN, caption='Fish & chips <"fresh">')
    texts = [t.text for t in ET.fromstring(svg).findall("svg:text", SVG_NS)]
    assert " ".join(texts).endswith('Fish & chips <"fresh">')


# --- HRI ----------------------------------------------------------------------------


def test_hri_of_the_briefs_example() -> None:
    assert gs1_hri(LGTIN) == "(01) 09521000000100 (10) HV-1 (17) 270101"
    assert gs1_hri(LGTIN, spaced=False) == "(01)09521000000100(10)HV-1(17)270101"


def test_hri_puts_qualifiers_in_standard_order_then_attributes_by_ai() -> None:
    uri = "https://id.gs1.org/01/9521234543213/22/V2/10/L%2F1/21/S1?17=270101&15=261201&linkType=gs1:pip"
    assert hri_elements(uri) == [
        ("01", "09521234543213"),  # a GTIN-13 in the URI is shown as the GTIN-14 element string
        ("22", "V2"),
        ("10", "L/1"),  # %-escapes decoded
        ("21", "S1"),
        ("15", "261201"),
        ("17", "270101"),
    ]
    assert gs1_hri(SSCC) == "(00) 095212345000000018"
    assert gs1_hri("https://id.gs1.org/414/9521234000006/254/DOCK-2") == "(414) 9521234000006 (254) DOCK-2"


def test_long_hri_wraps_at_element_boundaries() -> None:
    layout = labels._layout(
        ROUND_TRIPS["long-serial"], caption=None, width_mm=30, dpi=300, font=None, field="uri", check_glyphs=True
    )
    lines = [line.text for line in layout.lines]
    assert " ".join(lines) == gs1_hri(ROUND_TRIPS["long-serial"])
    assert len(lines) >= 3
    assert all(re.fullmatch(r"(\(\d+\) \S+ ?)+", line) for line in lines)  # no element split across lines
    assert all(line.width <= layout.width for line in layout.lines)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("https://example.com/products/42", "no GS1 primary key"),
        ("https://id.gs1.org/01/09521234543210/21/ABC", "check digit"),
        ("https://id.gs1.org/01/09521234543213/21/ABC?17=271340", "expiry date"),
        ("https://id.gs1.org/01/09521234543213/17/270101", "query string"),
        ("ftp://id.gs1.org/01/09521234543213", "http(s)"),
        ("urn:epc:id:sgtin:9521234.054321.ABC", "https://id.gs1.org/01/09521234543213/21/ABC"),
        ("", "Digital Link"),
    ],
)
def test_not_a_digital_link_is_a_label_error_naming_the_field(uri: str, says: str) -> None:
    for render in (label_png, label_svg):
        with pytest.raises(LabelError) as caught:
            render(uri)
        error = caught.value
        assert isinstance(error, LedgerError) and error.http_status == 400
        assert error.field == "uri"
        assert str(error).startswith("uri: ")
        assert says in str(error)


def test_sheet_error_names_the_index() -> None:
    with pytest.raises(LabelError, match=r"^uris\[2\]: .*check digit") as caught:
        label_sheet([SGTIN, LGTIN, "https://id.gs1.org/01/09521234543210/21/X"])
    assert caught.value.field == "uris[2]"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width_mm": 10, "dpi": 150}, "width_mm"),  # too narrow for 2-dot modules of this URI
        ({"width_mm": 0}, "width_mm"),
        ({"dpi": 10}, "dpi"),
        ({"caption": "有机哈密瓜"}, "caption"),  # no CJK glyphs in the shipped font
        ({"caption": "x" * 201}, "caption"),
        ({"font": "/nonexistent/font.ttf"}, "font"),
    ],
)
def test_bad_options_name_their_field(kwargs: dict, field: str) -> None:
    with pytest.raises(LabelError) as caught:
        label_png(ROUND_TRIPS["long-serial"], **kwargs)
    assert caught.value.field == field


def test_caption_with_accents_renders_and_svg_takes_any_script() -> None:
    label_png(SGTIN, caption="Crème brûlée, Ærøskøbing")
    assert "有机哈密瓜" in label_svg(SGTIN, caption="有机哈密瓜")


def test_a_caller_font_is_used(out_dir: Path) -> None:
    font = labels.CAPTION_FONT  # any TrueType file will do
    image = label_image(SGTIN, caption="Own font", font=font)
    assert _only_symbol(image).text == SGTIN
    assert "'DejaVu Sans'," in label_svg(SGTIN, font=font)


def test_without_the_shipped_fonts_pillows_font_is_used(monkeypatch: pytest.MonkeyPatch, out_dir: Path) -> None:
    monkeypatch.setattr(labels, "HRI_FONT", Path("/nonexistent/mono.ttf"))
    monkeypatch.setattr(labels, "CAPTION_FONT", Path("/nonexistent/sans.ttf"))
    png = label_png(LGTIN, caption="Hami melon")
    (out_dir / "label-pillow-font.png").write_bytes(png)
    assert _only_symbol(png).identifier == parse_digital_link(LGTIN)
    with pytest.raises(LabelError, match="caption: the label font cannot draw 'é'"):
        label_png(LGTIN, caption="Café")


# --- sheets --------------------------------------------------------------------------------

PER_PAGE = 16  # 4 columns x 4 rows on A4 of these labels (two HRI lines and a caption)


def _serials(count: int) -> list[str]:
    return [f"https://id.gs1.org/01/09521234543213/21/SN{i:04d}?17=270101" for i in range(count)]


def _page_count(pdf: bytes) -> int:
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    (count,) = re.findall(rb"/Count\s+(\d+)", pdf)
    assert int(count) == len(pages)
    return len(pages)


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (PER_PAGE, 1), (PER_PAGE + 1, 2), (2 * PER_PAGE + 5, 3)])
def test_sheet_pdf_has_the_right_page_count(count: int, pages: int, out_dir: Path) -> None:
    pdf = label_sheet(_serials(count), caption="Amoxicillin 500 mg")
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert _page_count(pdf) == pages
    media_boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(media_boxes) == pages
    for w, h in media_boxes:  # A4 in points
        assert float(w) == pytest.approx(595.3, abs=0.5) and float(h) == pytest.approx(841.9, abs=0.5)
    assert b"/CCITTFaxDecode" in pdf  # lossless bi-level pages, no JPEG blur on the codes
    if count == PER_PAGE + 1:
        (out_dir / "sheet.pdf").write_bytes(pdf)


def test_sheet_png_decodes_every_label(out_dir: Path) -> None:
    uris = [SGTIN, LGTIN, SSCC, *_serials(6)]  # 3 columns x 3 rows: one page
    png = label_sheet(uris, columns=3, fmt="png", caption=["pack", "melon", "pallet"] + ["serial"] * 6)
    (out_dir / "sheet.png").write_bytes(png)
    page = Image.open(io.BytesIO(png))
    assert page.size == (2480, 3508)  # A4 at 300 dpi
    symbols = decode_image(page)
    assert sorted(s.text for s in symbols) == sorted(uris)
    assert {s.identifier for s in symbols} == {parse_digital_link(u) for u in uris}


def test_sheet_png_holds_one_page_only() -> None:
    with pytest.raises(LabelError, match=r"^fmt: 17 labels need 2 A4 pages .* use fmt='pdf'"):
        label_sheet(_serials(PER_PAGE + 1), fmt="png", caption="Amoxicillin 500 mg")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"uris": []}, "uris"),
        ({"uris": SGTIN}, "uris"),
        ({"uris": [SGTIN], "columns": 0}, "columns"),
        ({"uris": [SGTIN], "columns": 13}, "columns"),
        ({"uris": [SGTIN], "fmt": "jpeg"}, "fmt"),
        ({"uris": [SGTIN, LGTIN], "caption": ["one"]}, "caption"),
    ],
)
def test_bad_sheet_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(LabelError) as caught:
        label_sheet(**kwargs)
    assert caught.value.field == field


def test_write_label_and_sheet_pick_the_format_from_the_suffix(tmp_path: Path) -> None:
    assert write_label(SGTIN, tmp_path / "a.svg").read_text().startswith("<?xml")
    assert write_label(SGTIN, tmp_path / "a.PNG").read_bytes().startswith(b"\x89PNG")
    assert write_sheet([SGTIN], tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(LabelError, match=r"^out: .*\.png or \.svg"):
        write_label(SGTIN, tmp_path / "a.jpg")
    with pytest.raises(LabelError, match=r"^out: directory .* does not exist"):
        write_label(SGTIN, tmp_path / "missing" / "a.png")


# --- CLI --------------------------------------------------------------------------------------


def _cli():
    from ledger.cli.main import app

    return CliRunner(), app


def test_cli_single_label(tmp_path: Path, out_dir: Path) -> None:
    runner, app = _cli()
    target = out_dir / "cli-label.png"
    result = runner.invoke(app, ["qr", LGTIN, "--out", str(target), "--caption", "Hami melon"])
    assert result.exit_code == 0, result.output
    assert "(01) 09521000000100 (10) HV-1 (17) 270101" in result.output
    assert read_identifier(target) == parse_digital_link(LGTIN)

    svg = tmp_path / "x.svg"
    result = runner.invoke(app, ["qr", SGTIN, "-o", str(svg)])
    assert result.exit_code == 0, result.output
    ET.parse(svg)


def test_cli_default_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner, app = _cli()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["qr", SGTIN])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "qr-01-09521234543213-21-ABC-123.png").is_file()


def test_cli_sheet(tmp_path: Path) -> None:
    runner, app = _cli()
    target = tmp_path / "sheet.pdf"
    result = runner.invoke(app, ["qr", "--sheet", *_serials(PER_PAGE + 1), "--out", str(target), "--caption", "Pack"])
    assert result.exit_code == 0, result.output
    assert _page_count(target.read_bytes()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qr", "urn:epc:id:sgtin:9521234.054321.ABC"], "uri: 'urn:epc:id:sgtin:9521234.054321.ABC' is an EPC URN"),
        (["qr", SGTIN, LGTIN], "use --sheet"),
        (["qr", "--sheet", SGTIN, "https://example.com/x"], "uris[1]: "),
    ],
)
def test_cli_errors_are_label_errors(args: list[str], message: str, tmp_path: Path) -> None:
    runner, app = _cli()
    result = runner.invoke(app, [*args, "--out", str(tmp_path / ("x.pdf" if "--sheet" in args else "x.png"))])
    assert result.exit_code != 0
    assert isinstance(result.exception, LabelError)  # main() prints it as one "error:" line and exits 1
    assert message in str(result.exception)
