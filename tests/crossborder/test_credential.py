"""The trader credential: a check page in Chinese and English read from the chain at
request time, and a QR code (PNG, SVG) of the page's absolute URL."""

from __future__ import annotations

import re

import pytest

from api.pages_trader import pick_language
from ledger.whitelist.model import iso
from scanner.decode import decode_image
from tests.crossborder.conftest import NAMES, TRADERS


def page(node, code: str, **kwargs):
    return node.http.get(f"/v1/traders/{code}/page", **kwargs)


def test_the_page_in_chinese_from_accept_language(node) -> None:
    code = TRADERS["aeo"]
    response = page(node, code, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "zh-CN" and "Accept-Language" in response.headers["vary"]
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "高级认证企业" in html and "AEO" in html
    assert "离岸贸易便利" in html and "快速通关" in html
    assert "有效" in html and "区块高度" in html and "合约地址" in html
    assert 'href="?lang=en"' in html and ">English</a>" in html
    entry = node.whitelist.entry(code)
    assert iso(entry.valid_from) in html and iso(entry.valid_until) in html


def test_the_page_in_english_and_lang_overrides_the_header(node) -> None:
    code = TRADERS["aeo"]
    for kwargs in ({"headers": {"Accept-Language": "en-GB,en;q=0.9"}},
                   {"params": {"lang": "en"}, "headers": {"Accept-Language": "zh-CN"}}):
        html = page(node, code, **kwargs).text
        assert '<html lang="en">' in html
        assert "AEO: advanced certified enterprise" in html and "Expedited clearance" in html
        assert "Offshore trade facilitation" in html and "Active" in html
        assert 'href="?lang=zh"' in html and ">中文</a>" in html
    zh = page(node, code, params={"lang": "zh"}, headers={"Accept-Language": "en"}).text
    assert '<html lang="zh-CN">' in zh


def test_the_page_names_the_block_it_was_read_at(node) -> None:
    html = page(node, TRADERS["aeo"], params={"lang": "en"}).text
    number = int(re.search(r"Block number</dt><dd><span class=\"code\">(\d+)<", html).group(1))
    block = node.ledger.chain.w3.eth.get_block(number)
    assert "0x" + bytes(block["hash"]).hex() in html
    assert iso(block["timestamp"]) in html
    assert node.ledger.manifest.contracts["TraderWhitelist"] in html
    assert number == node.ledger.chain.w3.eth.block_number, "read at the latest block, at request time"


def test_everything_is_escaped(node) -> None:
    html = page(node, TRADERS["aeo"]).text
    assert "Xiamen Harbour &lt;Trading&gt; &amp; Co." in html and "<Trading>" not in html


@pytest.mark.parametrize(("trader", "zh", "en"), [
    ("revoked", "已撤销", "Revoked"),
    ("expired", "已过期", "Expired"),
    ("suspended", "已暂停", "Suspended"),
])
def test_each_status_in_both_languages(node, trader: str, zh: str, en: str) -> None:
    assert zh in page(node, TRADERS[trader], params={"lang": "zh"}).text
    assert en in page(node, TRADERS[trader], params={"lang": "en"}).text


def test_a_dishonest_trader_is_flagged(node) -> None:
    zh = page(node, TRADERS["dishonest"], params={"lang": "zh"}).text
    en = page(node, TRADERS["dishonest"], params={"lang": "en"}).text
    assert "失信企业" in zh and "Dishonest enterprise" in en and 'role="alert"' in en


def test_an_unknown_trader_is_a_404_page_in_both_languages(node) -> None:
    response = page(node, TRADERS["unknown"])
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "not on the customs whitelist" in response.text and "不在海关信用白名单上" in response.text
    assert TRADERS["unknown"] in response.text


def test_a_malformed_uscc_is_a_400_page_naming_the_character(node) -> None:
    response = page(node, "91350200I76049653A")
    assert response.status_code == 400
    assert "character &#x27;I&#x27; at position 9 is not allowed" in response.text
    assert "第 9 位字符“I”不允许" in response.text
    wrong_check = page(node, "91350200776049653B", params={"lang": "zh"})
    assert wrong_check.status_code == 400 and "校验码为“B”，应为“A”" in wrong_check.text
    script = page(node, "<img src=x onerror=alert(1)>")
    assert script.status_code == 400 and "<img" not in script.text and "&lt;img src=x" in script.text


def test_the_qr_png_decodes_to_the_page_url(node) -> None:
    code = TRADERS["aeo"]
    response = node.http.get(f"/v1/traders/{code}/qr.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    [symbol] = decode_image(response.content)
    assert symbol.text == f"http://testserver/v1/traders/{code}/page"
    assert node.http.get(symbol.text.removeprefix("http://testserver")).status_code == 200


def test_the_qr_svg_carries_the_uscc_and_name(node) -> None:
    code = TRADERS["aeo"]
    response = node.http.get(f"/v1/traders/{code}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert f"<title>http://testserver/v1/traders/{code}/page</title>" in svg
    assert f">{code}</text>" in svg and "Xiamen Harbour &lt;Trading&gt; &amp; Co.</text>" in svg
    assert NAMES["aeo"] not in svg


def test_qr_of_an_unknown_or_malformed_trader(node) -> None:
    assert node.http.get(f"/v1/traders/{TRADERS['unknown']}/qr.png").status_code == 404
    bad = node.http.get("/v1/traders/91350200I76049653A/qr.svg")
    assert bad.status_code == 400 and "position 9" in bad.json()["detail"]


@pytest.mark.parametrize(("header", "param", "expected"), [
    (None, None, "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh"),
    ("en-US,en;q=0.9,zh;q=0.8", None, "en"),
    ("fr-FR,zh-TW;q=0.5,en;q=0.3", None, "zh"),
    ("zh-CN", "en", "en"),
    ("en", "ZH", "zh"),
    ("en", "fr", "en"),
    ("zh;q=0.2,en;q=0.7", None, "en"),
])
def test_language_negotiation(header, param, expected) -> None:
    assert pick_language(header, param) == expected
