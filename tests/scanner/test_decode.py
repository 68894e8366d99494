"""Decoding QR codes and GS1 DataMatrix symbols into Identifiers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from ledger.epcis.identifiers import parse_digital_link
from ledger.errors import LedgerError
from scanner.decode import (
    DecodeError,
    decode_image,
    element_strings_to_digital_link,
    parse_gs1,
    read_identifier,
)
from scanner.labels import label_image, label_png

OUT = Path(__file__).resolve().parents[2] / "test-output" / "labels"

# A serialized drug pack: GTIN + serial + expiry + lot, as a pharma DataMatrix carries it
# (fixed-length (17) before the variable-length (10), the usual order on packs).
PACK_ELEMENTS = "(01)09521234543213(21)ABC(17)270101(10)LOT1"
PACK_DL = "https://id.gs1.org/01/09521234543213/10/LOT1/21/ABC?17=270101"
FOOD_DL = "https://id.gs1.org/01/09521000000100/10/HV-1?17=270101"


@pytest.fixture(scope="module")
def out_dir() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT


def _to_pil(barcode: zxingcpp.Barcode, scale: int) -> Image.Image:
    bitmap = memoryview(barcode.to_image(scale=scale, add_quiet_zones=True))
    return Image.frombytes("L", (bitmap.shape[1], bitmap.shape[0]), bitmap.tobytes())


def gs1_datamatrix(elements: str, *, scale: int = 8) -> Image.Image:
    """A GS1 DataMatrix (FNC1 first, ``]d2``) written by zxing-cpp from a bracketed element string."""
    return _to_pil(
        zxingcpp.create_barcode(elements, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, force_square=True), scale
    )


def plain_qr(text: str, *, scale: int = 8) -> Image.Image:
    return _to_pil(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale)


def photo_like(image: Image.Image, *, scale: float, angle: float) -> bytes:
    """Downscaled, rotated, unevenly lit, noisy, slightly blurred, JPEG-compressed: a phone snapshot."""
    img = image.convert("L")
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BILINEAR)
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    canvas = Image.new("L", (img.width + 120, img.height + 90), 235)
    canvas.paste(img, (70, 40))
    light = Image.linear_gradient("L").rotate(30).resize(canvas.size).point(lambda v: 150 + v * 105 // 255)
    img = ImageChops.multiply(canvas, light)
    noise = Image.effect_noise(img.size, 18)  # Gaussian, centred on 128
    img = ImageChops.add(img, noise, scale=1.0, offset=-128)
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    out = io.BytesIO()
    img.convert("RGB").save(out, format="JPEG", quality=65)
    return out.getvalue()


# --- GS1 DataMatrix == Digital Link ---------------------------------------------------


def test_drug_pack_datamatrix_gives_the_same_identifier_as_its_digital_link(out_dir: Path) -> None:
    image = gs1_datamatrix(PACK_ELEMENTS)
    image.save(out_dir / "datamatrix-drug-pack.png")
    (symbol,) = decode_image(image)
    assert symbol.format == "DataMatrix"
    assert symbol.symbology_identifier == "]d2" and symbol.gs1_symbology
    assert symbol.text == "010952123454321321ABC\x1d1727010110LOT1"  # raw, GS between variable fields
    assert symbol.element_string == PACK_ELEMENTS
    assert symbol.problem is None

    from_dl = parse_digital_link(PACK_DL)
    ident = symbol.identifier
    assert ident == from_dl
    assert ident.canonical == "/01/09521234543213/21/ABC"
    assert (ident.scheme, ident.gtin, ident.serial, ident.lot) == ("sgtin", "09521234543213", "ABC", "LOT1")
    assert ident.expiry.isoformat() == "2027-01-01"
    assert ident.attributes == from_dl.attributes == (("17", "270101"),)
    assert symbol.digital_link == PACK_DL


def test_datamatrix_and_qr_label_of_the_same_pack_agree() -> None:
    (qr,) = decode_image(label_png(PACK_DL))
    (dm,) = decode_image(gs1_datamatrix(PACK_ELEMENTS))
    assert qr.format == "QR" and dm.format == "DataMatrix"
    assert qr.identifier == dm.identifier
    for field in ("gtin", "serial", "lot", "expiry", "attributes", "scheme"):
        assert getattr(qr.identifier, field) == getattr(dm.identifier, field), field


def test_gs1_qr_with_element_strings() -> None:
    image = _to_pil(zxingcpp.create_barcode(PACK_ELEMENTS, zxingcpp.BarcodeFormat.QRCode, gs1=True), 8)
    (symbol,) = decode_image(image)
    assert symbol.format == "QR" and symbol.symbology_identifier == "]Q3"
    assert symbol.identifier == parse_digital_link(PACK_DL)


def test_lot_only_datamatrix_is_a_lot_class() -> None:
    (symbol,) = decode_image(gs1_datamatrix("(01)09521000000100(17)270101(10)HV-1"))
    assert symbol.identifier == parse_digital_link(FOOD_DL)
    assert symbol.identifier.scheme == "lgtin" and symbol.identifier.is_class


def test_sscc_datamatrix_with_content_attributes() -> None:
    (symbol,) = decode_image(gs1_datamatrix("(00)095212345000000018(02)09521234543213(37)24"))
    assert symbol.identifier.scheme == "sscc"
    assert symbol.identifier.canonical == "/00/095212345000000018"
    assert dict(symbol.identifier.attributes) == {"02": "09521234543213", "37": "24"}


# --- photos ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "angle"), [(0.6, 7.0), (0.45, -11.0), (1.3, 3.0)])
def test_photo_of_a_qr_label_still_decodes(scale: float, angle: float, out_dir: Path) -> None:
    photo = photo_like(label_image(FOOD_DL, caption="Hami melon"), scale=scale, angle=angle)
    (out_dir / f"photo-qr-{scale}-{angle:g}.jpg").write_bytes(photo)
    assert read_identifier(photo) == parse_digital_link(FOOD_DL)
    (symbol,) = decode_image(photo)
    assert symbol.text == FOOD_DL


@pytest.mark.parametrize(("scale", "angle"), [(0.7, 9.0), (0.5, -5.0)])
def test_photo_of_a_drug_pack_datamatrix_still_decodes(scale: float, angle: float, out_dir: Path) -> None:
    photo = photo_like(gs1_datamatrix(PACK_ELEMENTS, scale=10), scale=scale, angle=angle)
    (out_dir / f"photo-datamatrix-{scale}-{angle:g}.jpg").write_bytes(photo)
    ident = read_identifier(photo)
    assert ident == parse_digital_link(PACK_DL) and ident.lot == "LOT1" and ident.expiry.year == 2027


# --- inputs -----------------------------------------------------------------------------------


def test_inputs_png_bytes_path_jpeg_and_pil(tmp_path: Path) -> None:
    png = label_png(FOOD_DL)
    path = tmp_path / "label.png"
    path.write_bytes(png)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(jpeg, format="JPEG", quality=85)
    expected = parse_digital_link(FOOD_DL)
    for source in (png, bytearray(png), path, str(path), jpeg.getvalue(), Image.open(io.BytesIO(png))):
        assert read_identifier(source) == expected, type(source)


def test_transparent_background_counts_as_white() -> None:
    gray = label_image(FOOD_DL)
    rgba = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    rgba.putalpha(ImageChops.invert(gray))  # black modules opaque, paper transparent
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    assert read_identifier(out.getvalue()) == parse_digital_link(FOOD_DL)


def test_symbol_position_is_the_code_in_the_image() -> None:
    canvas = Image.new("L", (900, 600), 255)
    canvas.paste(label_image(FOOD_DL), (500, 100))
    (symbol,) = decode_image(canvas)
    xs = [x for x, _ in symbol.position]
    ys = [y for _, y in symbol.position]
    assert 500 < min(xs) < max(xs) < 500 + 354 and 100 < min(ys) < max(ys) < 100 + 354


# --- several codes ---------------------------------------------------------------------------


def _side_by_side(*images: Image.Image) -> Image.Image:
    width = sum(i.width for i in images) + 40 * (len(images) + 1)
    canvas = Image.new("L", (width, max(i.height for i in images) + 80), 255)
    x = 40
    for image in images:
        canvas.paste(image.convert("L"), (x, 40))
        x += image.width + 40
    return canvas


def test_qr_and_datamatrix_of_one_pack_read_as_one_identifier() -> None:
    image = _side_by_side(label_image(PACK_DL), gs1_datamatrix(PACK_ELEMENTS))
    symbols = decode_image(image)
    assert sorted(s.format for s in symbols) == ["DataMatrix", "QR"]
    assert read_identifier(image) == parse_digital_link(PACK_DL)


def test_codes_of_different_items_are_ambiguous() -> None:
    image = _side_by_side(label_image(FOOD_DL), gs1_datamatrix(PACK_ELEMENTS))
    assert {s.identifier.canonical for s in decode_image(image)} == {
        "/01/09521000000100/10/HV-1",
        "/01/09521234543213/21/ABC",
    }
    with pytest.raises(DecodeError, match="2 different items"):
        read_identifier(image)


# --- errors -------------------------------------------------------------------------------------


def test_no_code_in_the_image(out_dir: Path) -> None:
    image = Image.new("L", (640, 480), 230)
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 300, 250), fill=40)
    draw.text((320, 300), "no code here", fill=0)
    for source in (image, photo_like(image, scale=1.0, angle=4)):
        with pytest.raises(DecodeError) as caught:
            decode_image(source)
        assert str(caught.value) == "no QR code or DataMatrix found in the image"
        assert isinstance(caught.value, LedgerError) and caught.value.http_status == 422


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"", "image: empty"),
        (b"%PDF-1.4 not an image", "image: image is not a readable PNG/JPEG"),
        (b"\x89PNG\r\n\x1a\n truncated", "image: "),
        ("/nonexistent/photo.jpg", "image: no such file /nonexistent/photo.jpg"),
        (12345, "image: expected PNG/JPEG bytes"),
    ],
)
def test_unreadable_images(source: object, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_image(source)
    assert str(caught.value).startswith(message)
    assert caught.value.http_status == 422


def test_a_qr_without_gs1_meaning_is_returned_with_the_reason() -> None:
    (symbol,) = decode_image(plain_qr("https://example.com/menu"))
    assert symbol.format == "QR" and symbol.text == "https://example.com/menu"
    assert symbol.identifier is None and symbol.digital_link is None
    assert "no GS1 primary key" in symbol.problem
    with pytest.raises(DecodeError, match=r"no GS1 identifier in the image: QR 'https://example.com/menu': "):
        read_identifier(plain_qr("https://example.com/menu"))

    (symbol,) = decode_image(plain_qr("hello"))
    assert symbol.problem.startswith("not GS1 content")


def test_a_digital_link_with_a_bad_check_digit_says_so() -> None:
    (symbol,) = decode_image(plain_qr("https://id.gs1.org/01/09521234543210/21/ABC"))
    assert symbol.identifier is None
    assert "check digit 0, expected 3" in symbol.problem


def test_an_epc_urn_in_a_qr() -> None:
    (symbol,) = decode_image(plain_qr("urn:epc:id:sgtin:9521234.054321.ABC"))
    assert symbol.identifier == parse_digital_link("https://id.gs1.org/01/09521234543213/21/ABC")
    assert symbol.digital_link == "https://id.gs1.org/01/09521234543213/21/ABC"


# --- text parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        PACK_DL,
        "https://brand.example/p/01/9521234543213/21/ABC?17=270101&10=ignored-in-query-is-an-error",
        PACK_ELEMENTS,
        "(01)09521234543213(10)LOT1(21)ABC",
        "]d2010952123454321321ABC\x1d1727010110LOT1",
        "]Q3010952123454321317270101" + "21ABC",
        "urn:epc:id:sgtin:9521234.054321.ABC",
    ],
)
def test_parse_gs1_spellings_meet(text: str) -> None:
    if "ignored" in text:
        with pytest.raises(DecodeError, match=r"\(10\) is a key or key qualifier"):
            parse_gs1(text)
        return
    assert parse_gs1(text).canonical == "/01/09521234543213/21/ABC"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(17)270101(10)LOT1", r"have no primary key such as \(01\) GTIN or \(00\) SSCC"),
        ("(00)095212345000000018(01)09521234543213", "more than one primary key"),
        ("(01)09521234543210(21)ABC", "check digit 0, expected 3"),
        ("(01)09521234543213(17)271340", r"could not be parsed: .*GS1 AI \(17\)"),
        ("(99", "could not be parsed"),
        ("]d2garbage", "could not be parsed"),
        ("plain words", "not GS1 content"),
    ],
)
def test_parse_gs1_errors(text: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_gs1(text)


def test_element_strings_to_digital_link_orders_the_path() -> None:
    uri = element_strings_to_digital_link(
        [("01", "09521234543213"), ("21", "A/B"), ("17", "270101"), ("10", "L 1"), ("22", "V")]
    )
    assert uri == "https://id.gs1.org/01/09521234543213/22/V/10/L%201/21/A%2FB?17=270101"
    assert element_strings_to_digital_link([("414", "9521234000006"), ("254", "7")], host="https://x.example") == (
        "https://x.example/414/9521234000006/254/7"
    )
