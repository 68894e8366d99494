"""QR labels over HTTP: a label decodes back to the resolver link it was asked for; a lot's sheet holds its items."""

from __future__ import annotations

import pytest

from scanner.decode import decode_image, read_identifier
from tests.trace.scenario import DRUG, PACKS, SAUCE_LOT, key_of

DRUG_LOT_ITEMS = 3


def test_a_label_decodes_to_this_resolvers_link_with_the_expiry(node) -> None:
    response = node.http.get(f"{key_of(SAUCE_LOT)}", params={"17": "270101"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    label = node.http.get(f"/qr{key_of(SAUCE_LOT)}", params={"17": "270101", "caption": "Tomato sauce"})
    assert label.status_code == 200 and label.headers["content-type"] == "image/png"
    [symbol] = decode_image(label.content)
    assert symbol.text == f"http://testserver{key_of(SAUCE_LOT)}?17=270101"
    assert read_identifier(label.content).expiry.isoformat() == "2027-01-01"


def test_svg_and_another_resolver_host(node) -> None:
    svg = node.http.get(f"/qr{key_of(PACKS[0])}", params={"format": "svg", "host": "https://id.gs1.org"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "(01) " in svg.text and "(21) PK0001" in svg.text


def test_a_lots_sheet_has_a_label_per_serialized_item(node) -> None:
    packs_lot = next(k for k in _lots(node) if k.startswith(f"/01/{DRUG}/10/"))
    sheet = node.http.get(f"/qr/sheet{packs_lot}", params={"format": "png", "columns": 3})
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
    found = sorted(symbol.text for symbol in decode_image(sheet.content))
    assert found == sorted(f"http://testserver{key_of(pack)}" for pack in PACKS)
    pdf = node.http.get(f"/qr/sheet{packs_lot}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def _lots(node) -> list[str]:
    listing = node.http.get(f"/01/{DRUG}", headers={"Accept": "application/json"}).json()
    return [lot["key"] for lot in listing["lots"]]


@pytest.mark.parametrize(("path", "params", "fragment"), [
    ("/qr/01/09521000000341/10/X", {}, "check digit"),
    (f"/qr{key_of(SAUCE_LOT)}", {"host": "ftp://example.com"}, "host"),
    (f"/qr{key_of(SAUCE_LOT)}", {"dpi": "10"}, "dpi"),
    (f"/qr/sheet{key_of(PACKS[0])}", {}, "not a lot"),
    (f"/qr{key_of(SAUCE_LOT)}", {"17": "271341"}, "17"),
])
def test_bad_requests_are_400_naming_the_problem(node, path: str, params: dict, fragment: str) -> None:
    response = node.http.get(path, params=params)
    assert response.status_code in (400, 422), response.text
    assert fragment in response.text
