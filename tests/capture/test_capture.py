"""Signed EPCIS capture end to end: what is stored, what is refused and why,
and that authorship can be proven from the log alone."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from eth_account import Account
from sqlalchemy import func, select

from ledger.capture.signing import SigningDomain, recover_signer
from ledger.client import ClientError, epcis_document
from ledger.epcis.build import gtin, item, lot, object_event
from ledger.epcis.hashid import event_hash_id
from ledger.participants.service import suspend_participant
from ledger.records.models import Record

TOMATO = gtin("0952100000010")
SAUCE = gtin("0952100000020")
DRUG = gtin("0952100000030")


def log_size(node) -> int:
    with node.ledger.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Record)).scalar_one()


def harvest(node, lot_number="HV-1", **extra):
    return object_event(quantities=[(lot(TOMATO, lot_number), 1200, "KGM")], action="ADD", biz_step="commissioning",
                        disposition="active", location=node.gln("farm"), **extra)


def test_a_signed_capture_is_stored_hashed_and_queryable(node) -> None:
    events = [harvest(node), object_event(quantities=[(lot(TOMATO, "HV-1"), 1200, "KGM")], biz_step="shipping",
                                            disposition="in_transit", location=node.gln("farm"))]
    result = node.client("farm").capture(epcis_document(events))
    assert result["state"] == "stored" and result["eventCount"] == 2
    assert [e["eventHashID"] for e in result["events"]] == [event_hash_id(e) for e in events]
    assert all(e["status"] == "stored" for e in result["events"])
    assert node.http.get(f"/capture/{result['captureID']}").json() == result

    shipped = node.client("farm").events(EQ_bizStep="shipping")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(shipped) == 1 and shipped[0]["tl:eventHashID"] == result["events"][1]["eventHashID"]
    by_lot = node.http.get("/events", params={"MATCH_anyEPC": "urn:epc:class:lgtin:9521000.000010.HV-1"})
    assert by_lot.status_code == 200, by_lot.text
    assert len(by_lot.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    hash_id = result["events"][0]["eventHashID"]
    one = node.http.get("/events/" + quote(hash_id, safe=""))
    assert one.status_code == 200 and one.json()["tl:logIndex"] == result["events"][0]["logIndex"]


def test_authorship_is_provable_from_the_log_alone(node) -> None:
    events = [harvest(node, "HV-7")]
    result = node.client("farm").capture(epcis_document(events))
    with node.ledger.engine.connect() as conn:
        bodies = dict(conn.execute(select(Record.index, Record.body)).all())
    event_record = json.loads(bodies[result["events"][0]["logIndex"]])
    capture_record = json.loads(bodies[event_record["captureRecord"]])
    assert event_hash_id(event_record["event"]) == event_record["eventHashID"]
    assert event_record["eventHashID"] in capture_record["eventHashIDs"]
    domain = SigningDomain(node.ledger.chain.chain_id, node.ledger.manifest.contracts["ParticipantRegistry"])
    signer = recover_signer(domain, capture_record["eventHashIDs"], int(capture_record["nonce"]), capture_record["signature"])
    assert signer == node.keys["farm"].address == event_record["signer"]


def test_an_invalid_event_refuses_the_whole_document(node) -> None:
    before = log_size(node)
    bad_gtin = TOMATO[:-1] + str((int(TOMATO[-1]) + 1) % 10)
    events = [harvest(node, "HV-2"), object_event(epcs=[item(bad_gtin, "S1")], biz_step="shipping", location=node.gln("farm"))]
    with pytest.raises(ClientError) as info:
        node.client("farm").capture(epcis_document(events))
    assert info.value.status == 400
    assert "event 1" in info.value.message and "epcList[0]" in info.value.message
    assert log_size(node) == before


def test_unsigned_forged_and_unknown_keys_are_401(node) -> None:
    document = epcis_document([harvest(node, "HV-3")])
    unsigned = node.http.post("/capture", json=document)
    assert unsigned.status_code == 401 and "TL-Signer" in unsigned.json()["detail"]

    signed = node.client("farm").sign(document)
    forged = dict(signed.headers, **{"TL-Signature": node.client("carrier").sign(document).headers["TL-Signature"]})
    response = node.http.post("/capture", json=document, headers=forged)
    assert response.status_code == 401 and "not by the claimed signer" in response.json()["detail"]

    tampered = json.loads(json.dumps(document))
    tampered["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = 9999
    assert node.http.post("/capture", json=tampered, headers=signed.headers).status_code == 401

    from ledger.client import LedgerClient

    stranger = LedgerClient(account=Account.create(), http=node.http)
    with pytest.raises(ClientError) as info:
        stranger.capture(document)
    assert info.value.status == 401 and "not registered" in info.value.message


def test_wrong_role_is_403_and_the_refusal_is_recorded(node) -> None:
    before = log_size(node)
    with pytest.raises(ClientError) as info:
        node.client("carrier").capture(epcis_document([harvest(node, "HV-4")]))
    assert info.value.status == 403
    assert "PRODUCER" in info.value.message and "DISTRIBUTOR" in info.value.message
    refused = node.http.get(f"/capture/{info.value.body['captureID']}").json()
    assert refused["state"] == "refused" and "commission" in refused["reason"]
    assert log_size(node) == before


def test_a_suspended_participant_is_403(node) -> None:
    suspend_participant(node.ledger, gln=node.gln("farm"))
    with pytest.raises(ClientError) as info:
        node.client("farm").capture(epcis_document([harvest(node, "HV-5")]))
    assert info.value.status == 403 and "suspended" in info.value.message


def test_replays_are_409_and_retries_return_the_first_result(node) -> None:
    client = node.client("farm")
    signed = client.sign(epcis_document([harvest(node, "HV-6")]), nonce=42)
    first = client.submit(signed)
    size = log_size(node)
    assert client.submit(signed) == first, "a retried capture returns the first capture's result"
    assert log_size(node) == size
    other = client.sign(epcis_document([harvest(node, "HV-66")]), nonce=42)
    with pytest.raises(ClientError) as info:
        client.submit(other)
    assert info.value.status == 409 and "nonce" in info.value.message


def test_the_same_event_twice_is_stored_once(node) -> None:
    event = harvest(node, "HV-8")
    first = node.client("farm").capture(epcis_document([event]))
    second = node.client("farm").capture(epcis_document([event, harvest(node, "HV-9")]))
    assert second["events"][0]["status"] == "duplicate"
    assert second["events"][0]["logIndex"] == first["events"][0]["logIndex"]
    assert second["events"][1]["status"] == "stored"


def test_recalls_by_regulator_or_by_the_producer_only(node) -> None:
    node.client("farm").capture(epcis_document([harvest(node, "HV-10")]))
    recall = object_event(quantities=[(lot(TOMATO, "HV-10"), 1200, "KGM")], biz_step="holding", disposition="recalled",
                          location=node.gln("farm"))
    with pytest.raises(ClientError) as info:
        node.client("carrier").capture(epcis_document([recall]))
    assert info.value.status == 403 and "REGULATOR" in info.value.message
    assert node.client("farm").capture(epcis_document([recall]))["state"] == "stored"
    other_lot = dict(recall, quantityList=[{"epcClass": lot(TOMATO, "HV-11"), "quantity": 1, "uom": "KGM"}])
    with pytest.raises(ClientError):
        node.client("farm").capture(epcis_document([other_lot]))  # not a lot this farm commissioned
    assert node.client("regulator").capture(epcis_document([other_lot]))["state"] == "stored"


def test_only_dispensers_dispense(node) -> None:
    pack = item(DRUG, "PACK-1")
    node.client("pharma").capture(epcis_document([object_event(epcs=[pack], action="ADD", biz_step="commissioning",
                                                                disposition="active", location=node.gln("pharma"))]))
    dispense = object_event(epcs=[pack], biz_step="dispensing", disposition="dispensed", location=node.gln("pharmacy"))
    with pytest.raises(ClientError) as info:
        node.client("carrier").capture(epcis_document([dispense]))
    assert info.value.status == 403 and "DISPENSER" in info.value.message
    assert node.client("pharmacy").capture(epcis_document([dispense]))["state"] == "stored"


def test_query_pagination_walks_every_event_once(node) -> None:
    events = [object_event(epcs=[item(SAUCE, f"J{i}")], action="ADD", biz_step="commissioning", location=node.gln("farm"))
              for i in range(25)]
    node.client("farm").capture(epcis_document(events))
    seen, token, pages = [], None, 0
    while True:
        params = {"EQ_bizStep": "commissioning", "perPage": 10, **({"nextPageToken": token} if token else {})}
        body = node.http.get("/events", params=params).json()
        seen += [e["tl:eventHashID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    assert node.http.get("/events", params={"nextPageToken": "garbage"}).status_code == 400
    assert node.http.get("/events", params={"GE_eventTime": "2026-01-01T00:00:00"}).status_code == 400
    assert node.http.get("/events", params={"MATCH_epc": "urn:epc:id:sgtin:bad"}).status_code == 400


def test_oversized_documents_are_413(node) -> None:
    events = [harvest(node, f"L{i}") for i in range(10_001)]
    response = node.http.post("/capture", json=epcis_document(events), headers={"TL-Signer": "0x0", "TL-Signature": "0x0", "TL-Nonce": "1"})
    assert response.status_code == 413
