"""Issue 8, item 4 (the hand-written half): hostile input gets a 4xx naming the problem, never a 5xx, and
changes nothing it should not.

Oversized bodies (413), deep JSON, invalid UTF-8, GS1 keys with bad check
digits, replayed and forged signatures (captures and relayed whitelist
changes), USCCs with a bad check character, and SQL-looking strings in every
text field: every string parameter the OpenAPI schema declares, and the text
fields of a capture and of a whitelist change, which must come back verbatim.

The served node is the cross-border tests' (tests/crossborder/conftest.py):
exporters (DISTRIBUTOR), customs officers (CUSTOMS) and listed traders.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from api.capture import MAX_BODY_BYTES
from api.json_body import MAX_JSON_BODY_BYTES
from ledger.capture.signing import SigningDomain, sign_capture
from ledger.client import epcis_document
from ledger.epcis.build import gtin, item, lot, object_event, sscc
from ledger.epcis.hashid import event_hash_id
from ledger.records.models import Record
from ledger.whitelist.service import reason_params
from tests.crossborder import conftest as crossborder

pytestmark = pytest.mark.reliability

node = crossborder.node  # the served cross-border node: a module-scoped fixture, reused
TRADERS = crossborder.TRADERS

GOODS = gtin("0952200000010")
UNCHECKED_SIGNATURE = {"TL-Signer": "0x" + "11" * 20, "TL-Nonce": "1", "TL-Signature": "0x" + "22" * 65}
"""Headers that get a document past the "is it signed" gate: the document is validated before the signature."""
SQL_PAYLOADS = (
    "' OR '1'='1",
    "1; DROP TABLE epcis_event; --",
    "\" OR \"\"=\"",
    "%' UNION SELECT hash_id, body FROM record --",
    "'); DELETE FROM record WHERE ('1'='1",
)


def wrong_check_digit(key: str) -> str:
    return key[:-1] + str((int(key[-1]) + 1) % 10)


def wrong_check_character(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def log_size(node: Any) -> int:
    with node.ledger.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(Record)).scalar_one()


def refused(response: Any, status: int, *fragments: str) -> dict[str, Any]:
    """The JSON error body of ``response``, checked: its status and what its detail must name."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) >= {"error", "detail"}, body
    for fragment in fragments:
        assert fragment in body["detail"], (fragment, body["detail"])
    return body


def shipping(node: Any, epc: str, **extra: Any) -> dict[str, Any]:
    return object_event(epcs=[epc], biz_step="shipping", disposition="in_transit", location=node.gln("exporter"),
                        **extra)


def signed_headers(node: Any, document: dict[str, Any], party: str = "exporter", nonce: int | None = None) -> dict:
    return node.client(party).sign(document, nonce=nonce).headers


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"example:level": value}
    return value


@pytest.fixture
def unchanged_log(node: Any) -> Iterator[None]:
    """The test stores nothing in the log."""
    before = log_size(node)
    yield
    assert log_size(node) == before, "a refused request stored something"


def test_oversized_bodies_are_413_and_store_nothing(node: Any, unchanged_log: None) -> None:
    over = b" " * (MAX_BODY_BYTES + 1)
    refused(node.http.post("/capture", content=over), 413, f"{MAX_BODY_BYTES:,}-byte limit")

    def streamed(size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:  # no Content-Length: read until over
        for start in range(0, size, chunk):
            yield b" " * min(chunk, size - start)

    refused(node.http.post("/capture", content=streamed(MAX_BODY_BYTES + 1)), 413, "limit")
    relay = f"/v1/traders/{TRADERS['aeo']}/changes"
    json_headers = {"content-type": "application/json"}
    refused(node.http.post(relay, content=b" " * (MAX_JSON_BODY_BYTES + 1), headers=json_headers), 413,
            f"{MAX_JSON_BODY_BYTES:,}-byte limit")
    refused(node.http.post(relay, content=streamed(MAX_JSON_BODY_BYTES + 1, 64 * 1024), headers=json_headers), 413)
    print("\nhostile input: 4 oversized bodies refused with 413")


def test_deep_json_is_refused_never_a_crash(node: Any, unchanged_log: None) -> None:
    """py-evm sets the recursion limit to 100,000, so a recursive parser would overflow the C stack (a
    segmentation fault: the whole server gone) long before a RecursionError: every parser here must refuse."""
    relay = f"/v1/traders/{TRADERS['aeo']}/changes"
    json_headers = {"content-type": "application/json"}
    deep_array = b"[" * 200_000
    refused(node.http.post("/capture", content=deep_array), 400, "body", "not JSON")
    refused(node.http.post("/capture", content=b'{"a":' * 5000 + b"1" + b"}" * 5000), 400, "not JSON")
    event = shipping(node, item(GOODS, "DEEP-1"), **{"example:deep": nested(100)})
    refused(node.http.post("/capture", json=epcis_document([event]), headers=UNCHECKED_SIGNATURE), 400, "event 0",
            "example:deep", "deeper than")
    refused(node.http.post(relay, content=deep_array, headers=json_headers), 422, "body: not JSON")
    refused(node.http.post(relay, json={"action": "SetEntry", "message": nested(500)}), 400, "message.")
    token = base64.urlsafe_b64encode(b"[" * 40_000).decode()
    refused(node.http.get("/events", params={"nextPageToken": token}), 400, "nextPageToken")
    assert node.http.get("/healthz").status_code == 200, "the server is still up"
    print("\nhostile input: 6 deeply nested bodies refused, the server still up")


def test_invalid_utf8_is_refused(node: Any, unchanged_log: None) -> None:
    refused(node.http.post("/capture", content=b'{"type": "EPCISDocument\xff"}'), 400, "body", "UTF-8")
    refused(node.http.post("/capture", content=json.dumps({"type": "EPCISDocument"}).encode("utf-16")), 400, "body")
    relay = f"/v1/traders/{TRADERS['aeo']}/changes"
    refused(node.http.post(relay, content=b'{"action": "\xc3\x28"}', headers={"content-type": "application/json"}),
            422, "body: not JSON")
    cases = [  # percent-encoded bytes that are not UTF-8, in paths and queries
        (f"/01/{GOODS}/10/%FF%FE", 400, "lot"),
        (f"/v1/trace/upstream/01/{GOODS}/21/%C0%AF", 400, "serial"),
        ("/00/%FF", 400, "SSCC"),
        ("/v1/traders/%FF%FE/check", 400, "uscc"),
        ("/events?MATCH_epc=%FF", 400, "MATCH_epc"),
        ("/events/%FF", 404, "no event"),
        ("/capture/%FF", 404, "no capture"),
    ]
    for path, status, fragment in cases:
        refused(node.http.get(path), status, fragment)
    document = epcis_document([shipping(node, item(GOODS, "UTF-1"))])
    headers = {"TL-Signer": b"\xff\xfe", "TL-Nonce": b"1", "TL-Signature": b"0x\xc3\x28"}  # raw bytes on the wire
    refused(node.http.post("/capture", json=document, headers=headers), 401, "signature")
    print(f"\nhostile input: {len(cases) + 4} requests with invalid UTF-8 refused")


def test_gs1_keys_with_bad_check_digits_are_400_naming_the_field(node: Any, unchanged_log: None) -> None:
    bad_gtin, bad_sscc = wrong_check_digit(GOODS), wrong_check_digit(sscc("09522000000000101").rsplit("/", 1)[1])
    bad_gln = wrong_check_digit(node.gln("exporter"))
    location = node.gln("exporter")
    documents = {
        "epcList[0]": object_event(epcs=[item(bad_gtin, "S1")], biz_step="shipping", location=location),
        "quantityList[0].epcClass": object_event(quantities=[(lot(bad_gtin, "L1"), 1, "KGM")], biz_step="shipping",
                                                 location=location),
        "readPoint.id": object_event(epcs=[item(GOODS, "S2")], biz_step="shipping", location=bad_gln),
        "parentID": {**object_event(epcs=[], biz_step="packing", location=location), "type": "AggregationEvent",
                     "action": "ADD", "parentID": f"https://id.gs1.org/00/{bad_sscc}",
                     "childEPCs": [item(GOODS, "S3")], "epcList": None},
    }
    for field, event in documents.items():
        event = {k: v for k, v in event.items() if v is not None}
        refused(node.http.post("/capture", json=epcis_document([event]), headers=UNCHECKED_SIGNATURE), 400,
                "event 0", field, "check digit")
    paths = [f"/01/{bad_gtin}/10/L1", f"/01/{bad_gtin}", f"/00/{bad_sscc}", f"/v1/trace/upstream/01/{bad_gtin}/21/S1",
             f"/v1/trace/downstream/01/{bad_gtin}/10/L1", f"/v1/trace/contents/00/{bad_sscc}",
             f"/events?MATCH_epc=https://id.gs1.org/01/{bad_gtin}/21/S1",
             f"/events?MATCH_anyEPC=https://id.gs1.org/01/{bad_gtin}/10/L1"]  # (an EPC URN holds no check digit)
    for path in paths:
        refused(node.http.get(path), 400, "check digit")
    print(f"\nhostile input: {len(documents) + len(paths)} GS1 keys with a bad check digit refused")


def test_forged_tampered_and_replayed_captures(node: Any) -> None:
    document = epcis_document([shipping(node, item(GOODS, "SIG-1"))])
    before = log_size(node)
    forged = dict(signed_headers(node, document, "exporter"))
    forged["TL-Signature"] = signed_headers(node, document, "carrier")["TL-Signature"]  # another key's signature
    refused(node.http.post("/capture", json=document, headers=forged), 401, "not by the claimed signer")
    tampered = json.loads(json.dumps(document))
    tampered["epcisBody"]["eventList"][0]["epcList"] = [item(GOODS, "SIG-2")]
    refused(node.http.post("/capture", json=tampered, headers=signed_headers(node, document)), 401, "signature")
    registry = node.ledger.manifest.contracts["ParticipantRegistry"]
    hash_ids = [event_hash_id(e) for e in document["epcisBody"]["eventList"]]
    elsewhere = SigningDomain(chain_id=node.ledger.chain.chain_id + 1, verifying_contract=registry)  # another ledger
    other_ledger = dict(signed_headers(node, document, nonce=7), **{
        "TL-Signature": sign_capture(node.keys["exporter"], elsewhere, hash_ids, 7)})
    refused(node.http.post("/capture", json=document, headers=other_ledger), 401, "signature")
    malformed = ["zz", "0x" + "00" * 64, "0x" + "00" * 65, "0x" + "ff" * 65, "0x" + "11" * 64 + "1f"]
    for signature in malformed:
        headers = dict(signed_headers(node, document), **{"TL-Signature": signature})
        refused(node.http.post("/capture", json=document, headers=headers), 401, "signature")
    for nonce in ("-1", str(2**256), "0x", "1e9", "NaN"):
        headers = dict(signed_headers(node, document), **{"TL-Nonce": nonce})
        refused(node.http.post("/capture", json=document, headers=headers), 401, "TL-Nonce")
    assert log_size(node) == before, "nothing forged was stored"

    signed = signed_headers(node, document, nonce=424242)
    first = node.http.post("/capture", json=document, headers=signed)
    assert first.status_code == 202, first.text
    stored = log_size(node)
    again = node.http.post("/capture", json=document, headers=signed)  # the same capture, retried
    assert again.status_code == 202 and again.json()["captureID"] == first.json()["captureID"]
    other = epcis_document([shipping(node, item(GOODS, "SIG-3"))])
    replayed = dict(signed, **{"TL-Signature": signed_headers(node, other, nonce=424242)["TL-Signature"]})
    refused(node.http.post("/capture", json=other, headers=replayed), 409, "nonce", "already used")
    assert log_size(node) == stored, "a retry or a replay stored nothing more"
    print(f"\nhostile input: {3 + len(malformed) + 5 + 2} forged, malformed or replayed capture signatures handled")


def test_forged_expired_and_replayed_whitelist_changes(node: Any) -> None:
    whitelist, officer, code = node.whitelist, node.keys["customs"], TRADERS["general"]
    path = f"/v1/traders/{code}/changes"
    params = reason_params(code, "hostile input test: suspension")
    versions = len(node.http.get(f"/v1/traders/{code}/history").json()["changes"])

    expired = whitelist.sign("SuspendEntry", params, officer, deadline=1)
    refused(node.http.post(path, json=expired.to_json()), 401, "expired")
    claimed = whitelist.sign("SuspendEntry", params, officer).to_json()
    claimed["officer"] = node.keys["customs2"].address  # signed by one officer, presented as another's
    refused(node.http.post(path, json=claimed), 401, "signature")
    future = whitelist.sign("SuspendEntry", params, officer, nonce=whitelist.nonce(officer.address) + 5)
    refused(node.http.post(path, json=future.to_json()), 401, "nonce")

    genuine = whitelist.sign("SuspendEntry", params, officer)
    assert node.http.post(path, json=genuine.to_json()).status_code == 201
    refused(node.http.post(path, json=genuine.to_json()), 401, "nonce", "replay")
    lift = whitelist.sign("LiftSuspension", reason_params(code, "hostile input test: lifted"), officer)
    assert node.http.post(path, json=lift.to_json()).status_code == 201
    changes = node.http.get(f"/v1/traders/{code}/history").json()["changes"]
    assert len(changes) == versions + 2, "exactly the two genuine changes were made"
    print("\nhostile input: 4 forged, expired or replayed whitelist changes refused with 401")


def test_uscc_with_a_bad_check_character_is_400_everywhere(node: Any, unchanged_log: None) -> None:
    bad = wrong_check_character(TRADERS["aeo"])
    expected = f"check character is {bad[-1]!r}"
    tails = ["", "/check", "/history", "/standing", "/qr.png", "/qr.svg", "/changes/typed-data?action=SetEntry"]
    for tail in tails:
        refused(node.http.get(f"/v1/traders/{bad}{tail}"), 400, "uscc", expected)
    page = node.http.get(f"/v1/traders/{bad}/page")
    assert page.status_code == 400 and bad in page.text and "text/html" in page.headers["content-type"]
    change = node.whitelist.sign("SuspendEntry", reason_params(TRADERS["aeo"], "x"), node.keys["customs"]).to_json()
    refused(node.http.post(f"/v1/traders/{bad}/changes", json=change), 400, "uscc", expected)
    change["message"]["uscc"] = bad
    refused(node.http.post(f"/v1/traders/{TRADERS['aeo']}/changes", json=change), 400, "message.uscc", expected)
    claim = shipping(node, item(GOODS, "USCC-1"), **{"tl:trader": bad, "tl:claims": ["EXPEDITED_CLEARANCE"]})
    document = epcis_document([claim])
    document["@context"].append({"tl": "https://traceledger.dev/voc/"})
    refused(node.http.post("/capture", json=document, headers=signed_headers(node, document)), 400,
            "event 0", "tl:trader", "check character")
    print(f"\nhostile input: {len(tails) + 4} requests naming a USCC with a bad check character refused")


def _string_parameters(node: Any) -> list[tuple[str, str, str, str]]:
    """(method, path template, location, name) of every string parameter the OpenAPI schema declares."""
    found = []
    for path, operations in node.http.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kinds = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", [])}
                kinds |= {schema.get("items", {}).get("type")} if schema.get("type") == "array" else set()
                if "string" in kinds:
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
    return found


def _tables(node: Any) -> dict[str, int]:
    with node.ledger.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def test_sql_looking_strings_in_every_parameter_are_just_text(node: Any) -> None:
    parameters = _string_parameters(node)
    assert len(parameters) >= 15, parameters
    before = _tables(node)
    sent = 0
    for method, template, location, name in parameters:
        for payload in SQL_PAYLOADS:
            path, query, headers = template, {}, {}
            for placeholder in re.findall(r"{(\w+)}", template):  # other path parameters: something valid
                value = payload if placeholder == name else TRADERS["aeo"]
                path = path.replace(f"{{{placeholder}}}", quote(value, safe=""))
            if location == "query":
                query[name] = payload
            elif location == "header":
                headers[name] = payload
            response = node.http.request(method, path, params=query, headers=headers)
            sent += 1
            assert response.status_code < 500, (method, template, name, payload, response.text[:300])
    assert _tables(node) == before, "a request changed the index"
    matching = node.http.get("/events", params={"EQ_bizLocation": SQL_PAYLOADS[0]}).json()
    assert matching["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == [], "' OR '1'='1 matched rows"
    print(f"\nhostile input: {sent} requests with SQL-looking strings in {len(parameters)} string parameters, "
          "no 5xx, the index unchanged")


def test_sql_looking_strings_in_stored_text_come_back_verbatim(node: Any) -> None:
    lot_number = "1'OR'1'='1"  # the GS1 lot alphabet holds ' and =, not spaces
    fields = {f"example:text{i}": payload for i, payload in enumerate(SQL_PAYLOADS)}
    event = object_event(quantities=[(lot(GOODS, lot_number), 5, "KGM")], action="ADD", biz_step="shipping",
                         location=node.gln("exporter"), ilmd={"cbvmda:lotNumber": SQL_PAYLOADS[1]}, **fields)
    document = epcis_document([event])
    result = node.http.post("/capture", json=document, headers=signed_headers(node, document))
    assert result.status_code == 202, result.text
    hash_id = result.json()["events"][0]["eventHashID"]
    stored = node.http.get("/events/" + quote(hash_id, safe="")).json()
    assert {key: stored[key] for key in fields} == fields and stored["ilmd"] == event["ilmd"]
    trace = node.http.get(f"/v1/trace/upstream/01/{GOODS}/10/{quote(lot_number, safe='')}").json()
    assert [e["eventHashID"] for e in trace["events"]] == [hash_id], "the lot names exactly its own event"

    code, officer = TRADERS["aeo"], node.keys["customs"]
    for reason, action in ((SQL_PAYLOADS[3], "SuspendEntry"), (SQL_PAYLOADS[4], "LiftSuspension")):
        change = node.whitelist.sign(action, reason_params(code, reason), officer)
        assert node.http.post(f"/v1/traders/{code}/changes", json=change.to_json()).status_code == 201
    node.sync()
    reasons = [c["entry"]["statusReason"] for c in node.http.get(f"/v1/traders/{code}/history").json()["changes"]]
    assert reasons[-2:] == [SQL_PAYLOADS[3], SQL_PAYLOADS[4]]
    print(f"\nhostile input: {len(fields) + 3} SQL-looking strings stored and read back verbatim")
