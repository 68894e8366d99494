"""The consumer page rendered from trace dicts: languages, timeline, banners, verification, escaping."""

from __future__ import annotations

import copy
import re
from html import unescape

import pytest

from api.page_kit import pick_language, with_query
from api.pages import BIZ_STEP_WORDS, DISPOSITION_WORDS, render_consumer_page, render_product_page
from ledger.epcis.vocab import BIZ_STEP, DISPOSITION

FARM, PLANT, SHOP = ("https://id.gs1.org/414/9521000000018", "https://id.gs1.org/414/9521000000025",
                     "https://id.gs1.org/414/9521000000049")
CARRIER_ID = "0x" + "c" * 64
TOMATO_LOT = "/01/09521000000100/10/HV-1"
SAUCE_LOT = "/01/09521000000278/10/RS-1"
PALLET = "/00/095210000000001015"
PACK = "/01/09521000000346/21/PK0001"


def _event(index: int, minute: int, step: str | None, disposition: str | None, location: str, party: str,
           applies: str, relation: str, *, kind: str = "ObjectEvent", action: str = "OBSERVE") -> dict:
    return {
        "logIndex": index, "eventTime": f"2026-03-01T08:{minute:02d}:00Z", "type": kind, "action": action,
        "bizStep": step, "disposition": disposition, "location": location, "participantId": party,
        "appliesTo": [applies], "relation": relation, "anchored": True, "treeSize": 40,
        "inclusionProof": ["0x" + "ab" * 32], "event": {"eventTimeZoneOffset": "+08:00"},
    }


def sauce_trace() -> dict:
    """The sauce lot's upstream trace as the resolver serves it: every event anchored."""
    events = [
        _event(0, 1, "commissioning", "active", FARM, "0xfarm", TOMATO_LOT, "input", action="ADD"),
        _event(1, 2, "shipping", "in_transit", FARM, CARRIER_ID, TOMATO_LOT, "input"),
        _event(2, 3, "receiving", "in_progress", PLANT, "0xplant", TOMATO_LOT, "input"),
        _event(3, 4, "creating_class_instance", None, PLANT, "0xplant", SAUCE_LOT, "self", kind="TransformationEvent"),
        _event(4, 5, "shipping", "in_transit", PLANT, "0xplant", PALLET, "container"),
        _event(5, 6, "receiving", "sellable_accessible", SHOP, "0xshop", PALLET, "container"),
    ]
    return {
        "direction": "upstream", "key": SAUCE_LOT, "kind": "lot",
        "requested": {"uri": SAUCE_LOT + "?17=270131", "attributes": {"17": "270131"}},
        "state": {"key": SAUCE_LOT, "disposition": "sellable_accessible", "location": SHOP,
                  "locationName": "FreshMart Central", "participantId": "0xshop",
                  "participant": {"name": "FreshMart Central", "gln": "9521000000049"},
                  "lastEventTime": "2026-03-01T08:06:00Z"},
        "events": events,
        "participants": {"0xfarm": {"name": "Green Valley Farm"}, "0xplant": {"name": "Riverside Foods"},
                         "0xshop": {"name": "FreshMart Central"}, CARRIER_ID: {"name": "Swift Logistics"}},
        "locationNames": {FARM: "Green Valley Farm", PLANT: "Riverside Foods", SHOP: "FreshMart Central"},
        "truncated": False,
        "checkpoint": {"treeSize": 40, "rootHash": "0x" + "11" * 32, "status": "anchored", "chainId": 1337,
                       "contract": "0x" + "a1" * 20, "transactionHash": "0x" + "f0" * 32, "blockNumber": 12,
                       "anchoredAt": "2026-03-01T08:10:00"},
        "status": {"contract": "0x" + "5a" * 20, "mirroredToBlock": 15, "recalls": [], "pack": None},
    }


def text_of(page: str) -> str:
    """The visible text, tags dropped, spaces collapsed."""
    inline_dropped = re.sub(r"</?(span|time|a|strong)\b[^>]*>", "", re.sub(r"<style>.*?</style>", "", page))
    without_tags = re.sub(r"<[^>]+>", " ", inline_dropped)
    return re.sub(r"\s+", " ", unescape(without_tags)).strip()


def timeline(page: str) -> list[str]:
    """The text of each timeline entry."""
    return [text_of(item) for item in re.findall(r'<li class="event [a-z]+"[^>]*>(.*?)</li>', page)]


def steps(page: str) -> list[str]:
    """The business step of each timeline entry, in words."""
    return [unescape(step).strip() for step in re.findall(r'<p class="step">([^<]+)', page)]


# --- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "param", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh"),
    ("zh-TW", None, "zh"),
    ("zh", None, "zh"),
    ("zh-Hant-HK;q=0.8, fr", None, "zh"),
    ("en-US,en;q=0.9,zh-CN;q=0.5", None, "en"),
    ("fr-FR", None, "en"),
    (None, None, "en"),
    ("en", "zh", "zh"),
    ("zh-CN", "en", "en"),
    ("zh-CN", "de", "zh"),
])
def test_the_language_comes_from_lang_then_accept_language(header, param, expected) -> None:
    assert pick_language(header, param) == expected


def test_the_english_page_tells_the_journey_in_plain_words() -> None:
    page = render_consumer_page(sauce_trace(), "en")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    entries = timeline(page)
    assert len(entries) == 6
    assert steps(page) == ["Harvested", "Shipped", "Received", "Processed from its ingredients", "Shipped", "Received"]
    places = ["Green Valley Farm", "Green Valley Farm", "Riverside Foods", "Riverside Foods", "Riverside Foods",
              "FreshMart Central"]
    assert re.findall(r'<span class="place">([^<]+)</span>', page) == places
    # An actor other than the place's owner is named; the same name is not repeated.
    assert "by Swift Logistics" in entries[1] and "by Green Valley Farm" not in entries[0]
    # Events of an input lot or a container say so; the lot's own event does not.
    assert f"Ingredient lot: {TOMATO_LOT}" in entries[0] and f"In case or pallet: {PALLET}" in entries[4]
    assert "Ingredient" not in entries[3] and "In case" not in entries[3]
    # Times in the zone where the event happened (+08:00), machine-readable in UTC.
    assert "1 Mar 2026, 16:01 (UTC+08:00)" in entries[0] and '<time datetime="2026-03-01T08:01:00Z">' in page
    text = text_of(page)
    assert "Origin Green Valley Farm" in text and "Status On sale" in text and "Held by FreshMart Central" in text
    assert "Expiry date 2027-01-31" in text and "GTIN 09521000000278" in text and "Lot RS-1" in text


def test_the_chinese_page() -> None:
    page = render_consumer_page(sauce_trace(), "zh-CN")
    assert '<html lang="zh-CN">' in page and "流转记录" in page
    entries = timeline(page)
    assert steps(page) == ["收获", "发货", "收货", "由原料加工", "发货", "收货"]
    assert "2026年3月1日 16:01（UTC+08:00）" in entries[0] and "原料批次：" in entries[0]
    assert "已验证" in page and "在售" in page
    assert "6 条记录中有 6 条由链上登记的参与方签名" in text_of(page)


def test_the_language_switch_keeps_the_path_and_query() -> None:
    here = SAUCE_LOT + "?17=270131&lang=en"
    page = render_consumer_page(sauce_trace(), "en", here=here)
    switch = re.search(r'<a class="switch" id="language-switch" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert switch is not None and switch.group(2) == "中文"
    assert unescape(switch.group(1)) == SAUCE_LOT + "?17=270131&lang=zh"
    zh = render_consumer_page(sauce_trace(), "zh", here=SAUCE_LOT)
    assert 'href="/01/09521000000278/10/RS-1?lang=en"' in zh and ">English</a>" in zh
    # Without the request path, a query-only link; a protocol-relative "here" is never followed.
    assert 'href="?lang=zh"' in render_consumer_page(sauce_trace(), "en")
    assert with_query("//evil.example/x", "lang", "zh") == "?lang=zh"


def test_every_cbv_term_has_words_in_both_languages() -> None:
    for vocabulary, words in ((BIZ_STEP, BIZ_STEP_WORDS), (DISPOSITION, DISPOSITION_WORDS)):
        missing = sorted(vocabulary.terms - words.keys())
        assert not missing, f"{vocabulary.field} terms without words: {missing}"
        assert all(english and chinese for english, chinese in words.values())


# --- verification -------------------------------------------------------------------------------


def test_a_fully_anchored_trace_gets_the_verified_badge_and_says_what_was_checked() -> None:
    page = render_consumer_page(sauce_trace(), "en")
    assert 'id="verified-badge"' in page and "pending-badge" not in page
    text = text_of(page)
    assert "6 of 6 events were signed by participants registered on chain (EIP-712" in text
    assert "6 of 6 events are included in the Merkle log checkpoint of size 40 (RFC 9162 inclusion proofs)" in text
    assert f"anchored on chain 1337 in block 12 at 1 Mar 2026, 08:10 (UTC), contract 0x{'a1' * 20}" in text
    assert f"ProductStatus contract 0x{'5a' * 20}, read up to block 15" in text and "No active recall" in text
    assert "not anchored yet" not in text
    proofs = re.search(r'<a href="([^"]+)" rel="nofollow">', page)
    assert proofs is not None and "linkType=gs1%3Atraceability" in proofs.group(1)


def test_events_after_the_checkpoint_are_pending_and_the_page_says_so() -> None:
    trace = sauce_trace()
    for event in trace["events"][4:]:
        event.update(anchored=False, inclusionProof=None)
        event.pop("treeSize")
    page = render_consumer_page(trace, "en")
    assert "verified-badge" not in page and 'id="pending-badge"' in page
    assert "Partly verified: 4 of 6 events anchored so far" in page
    text = text_of(page)
    assert "4 of 6 events are included in the Merkle log checkpoint of size 40" in text
    assert "Events recorded after the latest checkpoint are not anchored yet (2 of 6)" in text
    assert [("not anchored yet" in entry) for entry in timeline(page)] == [False] * 4 + [True] * 2
    assert page.count('class="event pending"') == 2


def test_without_any_checkpoint_nothing_is_claimed() -> None:
    trace = sauce_trace()
    trace["checkpoint"] = None
    for event in trace["events"]:
        event.update(anchored=False, inclusionProof=None)
    page = render_consumer_page(trace, "zh")
    assert "verified-badge" not in page and "尚未验证" in page and "日志尚无检查点锚定上链" in page


def test_an_anchored_event_without_its_proof_is_not_verified() -> None:
    trace = sauce_trace()
    trace["events"][2]["inclusionProof"] = None
    assert "verified-badge" not in render_consumer_page(trace, "en")


def test_a_truncated_history_is_not_called_verified() -> None:
    trace = sauce_trace()
    trace["truncated"] = True
    page = render_consumer_page(trace, "en")
    assert "verified-badge" not in page and "The history is longer than shown" in page


def test_a_trace_with_no_events_and_few_keys_still_renders() -> None:
    page = render_consumer_page({"key": PACK, "events": []}, "en")
    assert "No events recorded yet." in page and "Not verified yet" in page and "verified-badge" not in page


# --- banners --------------------------------------------------------------------------------------------


def _with_status(**status) -> dict:
    trace = sauce_trace()
    trace["status"] = {"contract": "0x" + "5a" * 20, "mirroredToBlock": 15, "recalls": [], "pack": None, **status}
    return trace


def _recall(key: str, relation: str) -> dict:
    return {"key": key, "relation": relation, "notice": "Listeria found in batch", "reasonHash": "0x" + "00" * 32,
            "recalledAt": "2026-03-02T09:30:00Z", "recalledBy": "0xreg", "recalledByName": "Food and Drug Authority",
            "txHash": "0x" + "7e" * 32, "blockNumber": 14}


@pytest.mark.parametrize(("relation", "en", "zh"), [
    ("self", "This product was recalled.", "本产品已被召回。"),
    ("input", "An ingredient of this product was recalled.", "本产品的一种原料已被召回。"),
    ("lot", "The lot of this item was recalled.", "本品所属批次已被召回。"),
    ("container", "A case or pallet this item travelled in was recalled.", "装运本品的箱或托盘已被召回。"),
])
def test_a_recall_shows_a_red_banner_naming_the_key_and_its_relation(relation, en, zh) -> None:
    trace = _with_status(recalls=[_recall(TOMATO_LOT, relation)])
    page = render_consumer_page(trace, "en")
    banner = re.search(r'<section class="banner red recall-banner" role="alert"[^>]*>(.*?)</section>', page)
    assert banner is not None
    text = text_of(banner.group(1))
    assert "RECALLED: do not eat or use" in text and en in text and TOMATO_LOT in text
    assert "“Listeria found in batch”" in text
    assert "Recalled by Food and Drug Authority on 2 Mar 2026, 09:30 (UTC)" in text
    assert "Block 14" in text and "No active recall" not in text_of(page)
    assert page.index("recall-banner") < page.index('class="card product"')  # at the top
    chinese = render_consumer_page(trace, "zh")
    assert zh in chinese and "已召回：请勿食用或使用" in chinese


def test_every_recall_gets_its_own_banner() -> None:
    trace = _with_status(recalls=[_recall(SAUCE_LOT, "self"), _recall(TOMATO_LOT, "input")])
    assert render_consumer_page(trace, "en").count("recall-banner") == 2


@pytest.mark.parametrize(("status", "colour", "title", "zh_title"), [
    ("dispensed", "amber", "ALREADY DISPENSED: do not sell or use", "已配发：请勿销售或使用"),
    ("stolen", "red", "Reported STOLEN: do not sell or use", "已报告被盗：请勿销售或使用"),
    ("destroyed", "red", "DESTROYED: do not sell or use", "已销毁：请勿销售或使用"),
])
def test_a_decommissioned_pack_says_so(status, colour, title, zh_title) -> None:
    trace = _with_status(pack={"key": SAUCE_LOT, "status": status, "at": "2026-03-03T10:00:00Z", "by": "0xpharmacy",
                               "byName": "City Hospital Pharmacy", "txHash": "0x" + "9d" * 32, "blockNumber": 15})
    page = render_consumer_page(trace, "en")
    opening = f'<section class="banner {colour} pack-banner" role="alert" data-status="{status}">'
    banner = re.search(re.escape(opening) + "(.*?)</section>", page)
    assert banner is not None
    text = text_of(banner.group(1))
    assert title in text and "City Hospital Pharmacy" in text and "3 Mar 2026, 10:00 (UTC)" in text
    assert zh_title in render_consumer_page(trace, "zh")


@pytest.mark.parametrize("status", [None, "absent"])
def test_no_status_means_no_banner(status) -> None:
    trace = sauce_trace()
    if status == "absent":
        del trace["status"]
    else:
        trace["status"] = None
    page = render_consumer_page(trace, "en")
    assert "banner" not in page.split("</style>")[1] and "ProductStatus" not in page


def test_a_history_ending_in_dispensed_warns_even_without_an_on_chain_status() -> None:
    trace = sauce_trace()
    del trace["status"]
    trace["state"].update(disposition="dispensed", participantId="0xshop")
    page = render_consumer_page(trace, "en")
    assert 'class="banner amber history-banner"' in page and "Recorded as Dispensed: do not sell or use" in page
    # When the chain says so, the chain's banner is enough.
    trace["status"] = {"contract": "0x1", "mirroredToBlock": 1, "recalls": [],
                       "pack": {"key": SAUCE_LOT, "status": "dispensed", "at": "2026-03-03T10:00:00Z"}}
    page = render_consumer_page(trace, "en")
    assert "history-banner" not in page and "pack-banner" in page


# --- escaping ----------------------------------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script>'
ATTRIBUTE_BREAK = '" onmouseover="alert(1)'


def test_everything_from_the_index_is_escaped() -> None:
    trace = copy.deepcopy(sauce_trace())
    trace["key"] = SAUCE_LOT + HOSTILE
    trace["kind"] = HOSTILE
    trace["participants"]["0xplant"]["name"] = HOSTILE
    trace["participants"][CARRIER_ID]["name"] = ATTRIBUTE_BREAK
    trace["locationNames"][FARM] = HOSTILE
    trace["events"][1]["location"] = "urn:x:" + HOSTILE  # no name: shown as given
    trace["events"][2]["bizStep"] = "https://example.com/steps/" + HOSTILE
    trace["events"][3]["disposition"] = HOSTILE
    trace["events"][4]["appliesTo"] = [HOSTILE]
    trace["events"][5]["eventTime"] = HOSTILE
    trace["events"][5]["logIndex"] = ATTRIBUTE_BREAK
    trace["events"][0]["event"]["eventTimeZoneOffset"] = HOSTILE
    trace["state"].update(locationName=HOSTILE, disposition=HOSTILE, participant={"name": HOSTILE})
    trace["checkpoint"].update(contract=HOSTILE, chainId=HOSTILE, treeSize=HOSTILE, anchoredAt=HOSTILE)
    trace["status"] = {"contract": HOSTILE, "mirroredToBlock": HOSTILE,
                       "recalls": [{**_recall(HOSTILE, HOSTILE), "notice": HOSTILE, "recalledByName": HOSTILE,
                                    "txHash": HOSTILE}],
                       "pack": {"key": HOSTILE, "status": "stolen", "at": HOSTILE, "byName": HOSTILE}}
    for lang in ("en", "zh"):
        page = render_consumer_page(trace, lang, here='/01/x"><script>alert(1)</script>?17=1')
        assert "<script" not in page.lower() and 'onmouseover="' not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    listing = {"key": "/01/09521000000278", "gtin": HOSTILE,
               "lots": [{"key": "/01/09521000000278/10/" + HOSTILE, "disposition": HOSTILE},
                        {"key": "javascript:alert(1)"}], "items": []}
    product = render_product_page(listing, "en", here="/01/09521000000278")
    assert "<script" not in product.lower() and 'href="javascript' not in product


def test_the_product_page_links_its_lots_and_items() -> None:
    listing = {"key": "/01/09521000000278", "gtin": "09521000000278",
               "lots": [{"key": SAUCE_LOT, "kind": "lot", "disposition": "sellable_accessible"}],
               "items": [], "truncated": True}
    page = render_product_page(listing, "zh", here="/01/09521000000278")
    assert '<html lang="zh-CN">' in page and f'href="{SAUCE_LOT}?lang=zh"' in page and "在售" in page
    assert "记录较多" in page and 'href="/01/09521000000278?lang=en"' in page
