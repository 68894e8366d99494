"""The scan page and its upload endpoint, on the real router and error handler (no ledger needed)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from api import scan
from api.errors import install_error_handlers
from ledger.epcis.build import gln
from scanner.labels import label_png
from tests.scanner.test_decode import FOOD_DL, PACK_DL, PACK_ELEMENTS, gs1_datamatrix, plain_qr

PACK_PATH = "/01/09521234543213/10/LOT1/21/ABC?17=270101"
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(scan.router)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def upload(http: TestClient, data: bytes, *, headers: dict | None = None, params: dict | None = None,
           name: str = "image"):
    return http.post("/scan", files={name: ("code.png", data, "image/png")}, headers=headers or {}, params=params)


# --- the page ----------------------------------------------------------------------------------


def test_the_scan_page_offers_a_camera_photo_upload_and_a_live_camera() -> None:
    page = scan.render_scan_page("en")
    assert '<form id="upload-form" method="post" action="/scan" enctype="multipart/form-data">' in page
    assert '<input id="image" name="image" type="file" accept="image/*" capture="environment" required>' in page
    assert "navigator.mediaDevices" in page and "toBlob" in page and "'Accept': 'application/json'" in page
    assert '<section id="camera" hidden' in page  # shown by the script only where a camera can be opened


@pytest.mark.parametrize(("headers", "params", "lang", "title"), [
    ({"Accept-Language": "zh-CN,zh;q=0.9"}, {}, "zh-CN", "扫码查询"),
    ({"Accept-Language": "zh-TW"}, {}, "zh-CN", "扫码查询"),
    ({"Accept-Language": "en-GB"}, {}, "en", "Scan a product code"),
    ({"Accept-Language": "en-GB"}, {"lang": "zh"}, "zh-CN", "扫码查询"),
])
def test_the_scan_page_in_both_languages(http, headers, params, lang, title) -> None:
    response = http.get("/scan", headers=headers, params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text and title in response.text
    assert response.headers["content-language"] == lang and "Accept-Language" in response.headers["vary"]


def test_an_explicit_language_is_kept_through_the_scan(http) -> None:
    page = http.get("/scan", params={"lang": "zh"}).text
    assert 'action="/scan?lang=zh"' in page and 'href="/scan?lang=en"' in page
    response = upload(http, label_png(PACK_DL), params={"lang": "zh"})
    assert response.status_code == 303 and response.headers["location"] == PACK_PATH + "&lang=zh"


# --- reading codes -------------------------------------------------------------------------------


def test_a_qr_label_redirects_to_its_page_on_this_host(http) -> None:
    response = upload(http, label_png(PACK_DL), headers=BROWSER)
    assert response.status_code == 303 and response.headers["location"] == PACK_PATH


def test_a_json_client_gets_the_link_and_the_path(http) -> None:
    response = upload(http, label_png(FOOD_DL), headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"digitalLink": FOOD_DL, "path": "/01/09521000000100/10/HV-1?17=270101",
                               "key": "/01/09521000000100/10/HV-1"}


def test_a_gs1_datamatrix_leads_to_the_same_page_as_the_qr(http) -> None:
    response = upload(http, png(gs1_datamatrix(PACK_ELEMENTS)), headers=JSON)
    assert response.status_code == 200 and response.json()["path"] == PACK_PATH


def test_a_qr_of_another_host_resolves_here(http) -> None:
    response = upload(http, png(plain_qr("https://example.com/01/09521234543213/21/ABC")))
    assert response.status_code == 303 and response.headers["location"] == "/01/09521234543213/21/ABC"


# --- bad uploads ---------------------------------------------------------------------------------


def _problem(response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    for fragment in fragments:
        assert fragment in detail, detail


def test_not_an_image_is_a_422_naming_the_field(http) -> None:
    _problem(upload(http, b"%PDF-1.7 not a photo", headers=JSON), 422, "image", "not a readable")


def test_a_photo_without_a_code_is_a_422(http) -> None:
    blank = png(Image.new("L", (200, 200), 255))
    _problem(upload(http, blank, headers=JSON), 422, "no QR code or DataMatrix found")


def test_a_code_without_gs1_meaning_is_a_422(http) -> None:
    _problem(upload(http, png(plain_qr("hello, world")), headers=JSON), 422, "no GS1 identifier", "not GS1 content")


def test_a_code_naming_a_place_is_a_422(http) -> None:
    place = png(plain_qr(f"https://id.gs1.org/414/{gln('952100000001')}"))
    _problem(upload(http, place, headers=JSON), 422, "/414/9521000000018", "(01) GTIN, (00) SSCC")


def test_too_large_photos_are_a_413(http) -> None:
    # Over the limit by one byte: read, then refused.
    _problem(upload(http, b"\0" * (scan.MAX_IMAGE_BYTES + 1), headers=JSON), 413, "image", "10 MB")
    # Far over: refused from Content-Length, before reading the body.
    _problem(upload(http, b"\0" * (scan.MAX_IMAGE_BYTES + 200_000), headers=JSON), 413, "10 MB")


def test_no_file_in_the_image_field_is_a_400(http) -> None:
    _problem(upload(http, label_png(PACK_DL), name="photo", headers=JSON), 400, "image", "no file")
    as_text = http.post("/scan", files={"other": ("x.txt", b"x")}, data={"image": "not a file"}, headers=JSON)
    _problem(as_text, 400, "no file in the form field 'image'")
    _problem(upload(http, b"", headers=JSON), 400, "empty")


def test_two_files_are_a_400(http) -> None:
    two = [("image", ("a.png", label_png(PACK_DL), "image/png")), ("image", ("b.png", label_png(FOOD_DL), "image/png"))]
    _problem(http.post("/scan", files=two, headers=JSON), 400, "image", "form could not be read")


def test_a_body_that_is_not_a_form_is_a_415(http) -> None:
    _problem(http.post("/scan", content=label_png(PACK_DL), headers={**JSON, "Content-Type": "image/png"}), 415,
             "multipart/form-data", "image")


def test_a_browser_gets_the_problem_on_the_scan_page(http) -> None:
    response = upload(http, png(plain_qr("<b>hello</b>")), headers={**BROWSER, "Accept-Language": "zh-CN"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<section class="alert" role="alert" id="scan-error"><strong>无法识别该码</strong>' in page
    assert "&lt;b&gt;hello&lt;/b&gt;" in page and "<b>hello" not in page
    assert '<form id="upload-form"' in page  # try again right there
