"""The GS1 Digital Link resolver and the trace API over HTTP."""

from __future__ import annotations

import time

import pytest

from ledger.epcis.build import gtin
from ledger.log.verify import verify_inclusion
from ledger.records.encoding import record_leaf_hash
from tests.trace.scenario import DRUG, PACKS, PALLET, SAUCE_LOT, TOMATO_LOT, key_of

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def anchored_trace(node, path: str, **params) -> dict:
    """The JSON trace once every event in it is anchored (the app anchors within ~0.2 s)."""
    deadline = time.monotonic() + 20
    while True:
        response = node.http.get(path, headers=JSON, params=params)
        assert response.status_code == 200, response.text
        trace = response.json()
        if all(event["anchored"] for event in trace["events"]) or time.monotonic() > deadline:
            return trace
        time.sleep(0.1)


def test_the_pack_resolves_to_its_trace_with_proofs_that_verify(node) -> None:
    trace = anchored_trace(node, key_of(PACKS[0]))
    assert trace["key"] == key_of(PACKS[0]) and trace["state"]["disposition"] == "dispensed"
    assert node.indices["pallet shipped"] in [e["logIndex"] for e in trace["events"]]
    checkpoint = trace["checkpoint"]
    root = bytes.fromhex(checkpoint["rootHash"][2:])
    assert checkpoint["status"] == "anchored" and checkpoint["treeSize"] > max(e["logIndex"] for e in trace["events"])
    for event in trace["events"]:
        assert event["anchored"] and event["treeSize"] == checkpoint["treeSize"]
        leaf = record_leaf_hash(event["record"]["kind"], event["record"]["body"])
        assert "0x" + leaf.hex() == event["leafHash"]
        proof = [bytes.fromhex(h[2:]) for h in event["inclusionProof"]]
        verify_inclusion(leaf, event["logIndex"], checkpoint["treeSize"], proof, root)
        assert event["event"]["tl:logIndex"] == event["logIndex"]


def test_events_not_anchored_yet_say_so(node) -> None:
    from ledger.epcis.build import object_event
    from tests.trace.scenario import node_capture

    serial_uri = f"https://id.gs1.org/01/{DRUG}/21/FRESH-1"
    node_capture(node, "pharma", [object_event(epcs=[serial_uri], action="ADD", biz_step="commissioning",
                                               disposition="active", location=node.gln("pharma"), when=node.when())])
    response = node.http.get(key_of(serial_uri), headers=JSON)
    assert response.status_code == 200
    event = response.json()["events"][0]
    if not event["anchored"]:  # the anchorer may already have been quick enough
        assert event["inclusionProof"] is None
    assert anchored_trace(node, key_of(serial_uri))["events"][0]["anchored"]


@pytest.mark.parametrize("link_type", ["gs1:traceability", "https://gs1.org/voc/traceability"])
def test_link_type_traceability_gets_json_even_from_a_browser(node, link_type) -> None:
    response = node.http.get(key_of(PACKS[0]), params={"linkType": link_type}, headers=BROWSER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["key"] == key_of(PACKS[0])


def test_a_browser_gets_the_consumer_page(node) -> None:
    response = node.http.get(key_of(PACKS[0]), headers=BROWSER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>" in page and key_of(PACKS[0]) in page
    assert "Dispensed" in page and "City Hospital Pharmacy" in page and "Shipped" in page
    chinese = node.http.get(key_of(PACKS[0]), headers={**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in chinese.text and "流转记录" in chinese.text


def test_digital_link_forms_all_resolve(node) -> None:
    with_lot = node.http.get(f"/01/{DRUG}/10/LOT-A/21/PK0001", params={"17": "270101"}, headers=JSON)
    assert with_lot.status_code == 200 and with_lot.json()["key"] == key_of(PACKS[0])
    assert with_lot.json()["requested"]["attributes"] == {"17": "270101"}
    lot_trace = node.http.get(key_of(SAUCE_LOT), headers=JSON)
    assert lot_trace.status_code == 200 and lot_trace.json()["kind"] == "lot"
    pallet = node.http.get(key_of(PALLET), headers=JSON)
    assert pallet.status_code == 200 and pallet.json()["kind"] == "container"
    assert "contents" in pallet.json()
    product = node.http.get(f"/01/{DRUG}", headers=JSON)
    assert product.status_code == 200
    assert {key_of(p) for p in PACKS} <= {entry["key"] for entry in product.json()["items"]}
    gtin13 = node.http.get(f"/01/{DRUG[1:]}/21/PK0001", headers=JSON)  # GTIN-13 is padded to GTIN-14
    assert gtin13.status_code == 200 and gtin13.json()["key"] == key_of(PACKS[0])
    assert node.http.get(f"/01/{DRUG}", headers=BROWSER).headers["content-type"].startswith("text/html")


def test_malformed_keys_are_400_naming_the_problem(node) -> None:
    bad_check = DRUG[:-1] + str((int(DRUG[-1]) + 1) % 10)
    response = node.http.get(f"/01/{bad_check}/21/PK0001", headers=JSON)
    assert response.status_code == 400
    assert f"check digit {bad_check[-1]}, expected {DRUG[-1]}" in response.json()["detail"]

    response = node.http.get(f"/01/{DRUG[:11]}/10/LOT-A", headers=JSON)
    assert response.status_code == 400 and "has 11 digits, expected 8, 12, 13 or 14" in response.json()["detail"]

    response = node.http.get("/00/12345", headers=JSON)
    assert response.status_code == 400 and "SSCC 12345 has 5 digits, expected 18" in response.json()["detail"]

    response = node.http.get(f"/01/{DRUG}/21/PK0001/10/LOT-A", headers=JSON)
    assert response.status_code == 400 and "order" in response.json()["detail"]

    response = node.http.get(f"/01/{DRUG}/21/PK0001", params={"17": "271399"}, headers=JSON)
    assert response.status_code == 400 and "expiry date" in response.json()["detail"]


def test_an_unknown_well_formed_key_is_404(node) -> None:
    response = node.http.get(f"/01/{DRUG}/21/NEVER-SEEN", headers=JSON)
    assert response.status_code == 404
    assert response.json()["detail"] == f"no events recorded for /01/{DRUG}/21/NEVER-SEEN"
    unknown_product = gtin("0952100000999")
    response = node.http.get(f"/01/{unknown_product}", headers=BROWSER)
    assert response.status_code == 404 and f"no events recorded for /01/{unknown_product}" in response.json()["detail"]


def test_downstream_report_over_http(node) -> None:
    response = node.http.get("/v1/trace/downstream" + key_of(TOMATO_LOT))
    assert response.status_code == 200, response.text
    report = response.json()
    sauce = next(entry for entry in report["affected"] if entry["key"] == key_of(SAUCE_LOT))
    assert sauce["state"]["locationName"] == "FreshMart Central"
    assert sauce["state"]["participantId"] == node.participant_id("shop")
    small = node.http.get("/v1/trace/downstream" + key_of(TOMATO_LOT), params={"maxNodes": 1}).json()
    assert small["truncated"] and "more than 1 nodes" in small["truncation"][0]
    bad = node.http.get("/v1/trace/downstream/01/123/10/X")
    assert bad.status_code == 400


def test_contents_and_upstream_over_http(node) -> None:
    shipped = node.http.get("/v1/trace/contents" + key_of(PALLET), params={"at": node.indices["pallet shipped"]})
    assert shipped.status_code == 200 and len(shipped.json()["contents"]) == 4
    upstream = node.http.get("/v1/trace/upstream" + key_of(PACKS[0]), params={"maxEvents": 2})
    assert upstream.status_code == 200 and upstream.json()["truncated"]
    assert len(upstream.json()["events"]) == 2 and "inclusionProof" in upstream.json()["events"][0]
