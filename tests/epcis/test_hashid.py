"""EPCIS 2.0 canonical event hash IDs: ledger.epcis.hashid.

The reference implementation, PyPI ``epcis-event-hash-generator`` (the ``test`` extra),
is the oracle: our IDs must be identical to its IDs.  It runs offline through
``ledger.epcis.hashid_oracle`` (its two shipped EPCIS context files are served
locally, any other context URL is refused, its global namespace table is reset per
document).  Tests that need it skip, with the reason, when it is not importable;
the golden IDs below were produced by it and keep the rest meaningful without it.
"""

from __future__ import annotations

import copy
import logging
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.epcis import hashid
from ledger.epcis.hashid import EVENT_TYPES, event_hash_id, event_hash_ids, event_prehash
from ledger.epcis.hashid_context import (
    BIZSTEP,
    BTT,
    COMP,
    DISP,
    EPCIS_PREFIXES,
    ER,
    EXCEPTION,
    IRI,
    MEASUREMENT,
    SCOPES,
    SDT,
    VOCAB,
)
from ledger.epcis.hashid_gs1 import canonical_gs1_uri, gs1_check_digit
from ledger.epcis.hashid_oracle import EPCIS_CONTEXT_URL, available, oracle_hash_ids, oracle_prehashes
from tests.support import unavailable

ORACLE_MISSING = available()
needs_oracle = pytest.mark.skipif(
    ORACLE_MISSING is not None,
    reason=f"reference implementation unavailable: {ORACLE_MISSING} (pip install '.[test]')",
)
HASH_ID = re.compile(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0")

# Produced by epcis-event-hash-generator 1.9.3 for HAND_WRITTEN below.
GOLDEN = {
    "object_commissioning_ilmd": "ni:///sha-256;91157bf78c18dd937b69c92c3bdcf748432507866c5318e37bf5f9820a2b6fde?ver=CBV2.0",
    "object_quantities_and_sensors": "ni:///sha-256;65e3f6651fd59796a5eabe4b4a4ef82081a1718f11f4b66dca29fe6b8d92de70?ver=CBV2.0",
    "aggregation_packing": "ni:///sha-256;356ca7934fd9bd80997dcd896f1338596a21cc1535d40813efeec49b88533d03?ver=CBV2.0",
    "transformation_with_extensions": "ni:///sha-256;493cd1b08fcd3cb97e98dd7c5594a915562c6b7299c119bb8757c2c138923a89?ver=CBV2.0",
    "transaction_po_and_parties": "ni:///sha-256;98a76c6309d4d7003df3daa67000975f0e6206c16428161499dad38f1f097aad?ver=CBV2.0",
    "association_sensor_to_asset": "ni:///sha-256;45504ec22f16d539e2f0431a5d0cea35f2f5258121c283f95ce8327180311489?ver=CBV2.0",
    "object_recall_with_error_declaration": "ni:///sha-256;2452d2909f401875c3412ebbd0a938027cc4f9ee6e31df3258f1dcd666d63c0b?ver=CBV2.0",
}


@pytest.fixture(autouse=True, scope="module")
def _quiet_reference():
    # The reference logs a warning or an error (root logger) per odd value or
    # dropped event.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)
    yield
    root.setLevel(level)


def _oracle_prehash(event: dict[str, Any], context: Any = None) -> str | None:
    got = oracle_prehashes(event, context)
    assert len(got) <= 1
    return got[0] if got else None


# --------------------------------------------------------------------------- hand-written events

EX_CONTEXT = [{"ex": "https://example.com/epcis/"}]

# One event of each type, plus variants, exercising ILMD, sensor data, quantities,
# business transactions, sources / destinations, persistent dispositions,
# certification info and extensions.  Identifiers are valid GS1 keys.
HAND_WRITTEN: dict[str, dict[str, Any]] = {
    "object_commissioning_ilmd": {
        "type": "ObjectEvent",
        "eventTime": "2024-03-04T08:15:00.250+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.1001", "urn:epc:id:sgtin:4012345.011111.1002"],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
        "ilmd": {
            "cbvmda:lotNumber": "LOT-2024-03",
            "cbvmda:itemExpirationDate": "2026-03-31",
            "ex:harvestField": "north-7",
        },
        "certificationInfo": "https://cert.example.com/organic/4012345",
        "@context": EX_CONTEXT,
    },
    "object_quantities_and_sensors": {
        "type": "ObjectEvent",
        "eventTime": "2024-05-10T23:30:00Z",
        "eventTimeZoneOffset": "-05:00",
        "epcList": [],
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"},
            {"epcClass": "https://id.gs1.org/01/04012345123456/10/ABC", "quantity": 12.5, "uom": "KGM"},
        ],
        "action": "OBSERVE",
        "bizStep": "urn:epcglobal:cbv:bizstep:storing",
        "disposition": "https://ref.gs1.org/cbv/Disp-sellable_not_accessible",
        "readPoint": {"id": "https://id.gs1.org/414/4012345000016"},
        "sensorElementList": [
            {
                "sensorMetadata": {
                    "time": "2024-05-10T18:29:59.999-05:00",
                    "deviceID": "urn:epc:id:giai:4012345.111",
                    "deviceMetadata": "https://id.example.com/sensor/111",
                },
                "sensorReport": [
                    {"type": "Temperature", "value": 4.5, "uom": "CEL"},
                    {"type": "gs1:RelativeHumidity", "value": 71, "uom": "A93"},
                    {
                        "type": "Temperature",
                        "exception": "ALARM_CONDITION",
                        "minValue": -2.0,
                        "maxValue": 9.25,
                        "uom": "CEL",
                        "time": "2024-05-10T23:00:00+00:00",
                    },
                ],
            }
        ],
        "persistentDisposition": {"set": ["completeness_verified"], "unset": ["completeness_inferred"]},
    },
    "aggregation_packing": {
        "type": "AggregationEvent",
        "eventTime": "2024-06-01T12:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:4012345.0000000017",
        "childEPCs": ["urn:epc:id:sgtin:4012345.011111.1001", "https://id.gs1.org/01/04012345111118/21/1002"],
        "childQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.011111.*", "quantity": 10}],
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"},
    },
    "transformation_with_extensions": {
        "type": "TransformationEvent",
        "eventTime": "2024-07-15T06:00:00.123456-03:00",
        "eventTimeZoneOffset": "-03:00",
        "inputEPCList": ["urn:epc:id:sgtin:4012345.011111.2001"],
        "inputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.MILK-7", "quantity": 500.0, "uom": "LTR"},
        ],
        "outputEPCList": ["urn:epc:id:sgtin:4012345.022222.3001", "urn:epc:id:sgtin:4012345.022222.3002"],
        "outputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.033333.CHEESE-1", "quantity": 50, "uom": "KGM"},
        ],
        "transformationID": "urn:epc:id:gdti:4012345.55555.1234",
        "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
        "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00003.0"},
        "ilmd": {"cbvmda:lotNumber": "CHEESE-1", "ex:ageingDays": 90},
        "ex:processParameters": {"ex:temperature": 32.5, "ex:operator": "line-2"},
        "ex:batchNote": "pasteurised",
        "@context": EX_CONTEXT,
    },
    "transaction_po_and_parties": {
        "type": "TransactionEvent",
        "eventTime": "2024-08-20T10:20:30.400+02:00",
        "eventTimeZoneOffset": "+02:00",
        "parentID": "urn:epc:id:sscc:4012345.1000000016",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.1001"],
        "action": "ADD",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:PO-778"},
            {"type": "urn:epcglobal:cbv:btt:desadv", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:ASN-12"},
        ],
        "sourceList": [
            {"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"},
            {"type": "location", "source": "urn:epc:id:sgln:4012345.00001.0"},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": "https://id.gs1.org/417/0614141000005"},
        ],
    },
    "association_sensor_to_asset": {
        "type": "AssociationEvent",
        "eventTime": "2024-09-01T00:00:00.5Z",
        "eventTimeZoneOffset": "+00:00",
        "parentID": "urn:epc:id:grai:4012345.55555.987",
        "childEPCs": ["urn:epc:id:giai:4012345.DEVICE-42"],
        "action": "ADD",
        "bizStep": "assembling",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00004.0"},
    },
    "object_recall_with_error_declaration": {
        "type": "ObjectEvent",
        "eventID": "ni:///sha-256;0000000000000000000000000000000000000000000000000000000000000000?ver=CBV2.0",
        "eventTime": "2024-10-05T14:00:00-07:00",
        "recordTime": "2024-10-05T21:00:01.002Z",
        "eventTimeZoneOffset": "-07:00",
        "epcList": ["https://id.gs1.org/01/04012345111118/21/1001"],
        "action": "OBSERVE",
        "bizStep": "holding",
        "disposition": "recalled",
        "errorDeclaration": {"declarationTime": "2024-10-06T00:00:00Z", "reason": "incorrect_data"},
    },
}


@pytest.fixture
def hand_written() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(HAND_WRITTEN)


def test_oracle_is_installed_where_services_are_required():
    """Under CI (TRACELEDGER_REQUIRE_SERVICES=1) a missing oracle fails the run
    instead of silently skipping every comparison with it."""
    if ORACLE_MISSING:
        unavailable(f"reference implementation: {ORACLE_MISSING}")


def test_every_event_type_is_covered():
    assert {e["type"] for e in HAND_WRITTEN.values()} == EVENT_TYPES
    assert set(GOLDEN) == set(HAND_WRITTEN)


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_golden_ids(name, hand_written):
    event = hand_written[name]
    assert HASH_ID.fullmatch(event_hash_id(event))
    assert event_hash_id(event) == GOLDEN[name]


@needs_oracle
@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_match_oracle(name, hand_written):
    event = hand_written[name]
    assert event_prehash(event) == _oracle_prehash(event)
    assert [event_hash_id(event)] == oracle_hash_ids(event)


def test_prehash_text_of_a_simple_event():
    event = HAND_WRITTEN["association_sensor_to_asset"]
    assert event_prehash(event) == (
        "eventType=AssociationEvent"
        "eventTime=2024-09-01T00:00:00.500Z"
        "eventTimeZoneOffset=+00:00"
        "parentID=https://id.gs1.org/8003/04012345555554987"
        "childEPCsepc=https://id.gs1.org/8004/4012345DEVICE-42"
        "action=ADD"
        "bizStep=https://ref.gs1.org/cbv/BizStep-assembling"
        "readPointid=https://id.gs1.org/414/4012345000047"
    )


def test_prehash_orders_sensor_reports_and_renders_extensions_last(hand_written):
    pre = event_prehash(hand_written["object_quantities_and_sensors"])
    assert pre.index("quantityList") < pre.index("action=") < pre.index("readPoint") < pre.index("sensorElementList")
    # short measurement types become GS1 web vocabulary IRIs (the compact form is
    # kept verbatim by the reference, and so by us)
    assert "sensorReporttype=https://gs1.org/voc/Temperature" in pre
    assert "type=gs1:RelativeHumidity" in pre
    pre = event_prehash(hand_written["transformation_with_extensions"])
    assert pre.endswith(
        "ilmdcbvmda:lotNumber=CHEESE-1{https://example.com/epcis/}ageingDays=90"
        "{https://example.com/epcis/}batchNote=pasteurised"
        "{https://example.com/epcis/}processParameters{https://example.com/epcis/}operator=line-2"
        "{https://example.com/epcis/}temperature=32.5"
    )


def test_api_batch_and_no_mutation(hand_written):
    events = list(hand_written.values())
    snapshot = copy.deepcopy(events)
    assert event_hash_ids(events) == [event_hash_id(e) for e in events]
    assert events == snapshot
    assert event_hash_ids([]) == []


def test_document_context_equals_event_context(hand_written):
    event = hand_written["transformation_with_extensions"]
    ctx = event.pop("@context")
    doc_ctx = [EPCIS_CONTEXT_URL, *ctx]
    assert event_hash_id(event, context=doc_ctx) == GOLDEN["transformation_with_extensions"]
    assert event_hash_ids([event], context=doc_ctx) == [GOLDEN["transformation_with_extensions"]]
    # without the prefix declaration the extension keys stay compact: another ID
    assert event_hash_id(event) != GOLDEN["transformation_with_extensions"]


# --------------------------------------------------------------------------- invariance / sensitivity

BASE = HAND_WRITTEN["transaction_po_and_parties"]


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = [(k, _shuffled(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    return [_shuffled(v, rng) for v in value] if isinstance(value, list) else value


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out.update(changes)
    return out


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_key_order_does_not_matter(name):
    event = HAND_WRITTEN[name]
    rng = random.Random(name)
    for _ in range(5):
        shuffled = _shuffled(event, rng)
        # inside a bizTransaction / source / destination entry the reference keeps
        # document order: restore it there (see test_entry_key_order_is_kept)
        for key in ("bizTransactionList", "sourceList", "destinationList"):
            if key in event:
                shuffled[key] = copy.deepcopy(event[key])
        assert event_hash_id(shuffled) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_unordered_lists_do_not_matter(name):
    event = copy.deepcopy(HAND_WRITTEN[name])
    for value in event.values():
        if isinstance(value, list):
            value.reverse()
    for element in event.get("sensorElementList", []):
        element["sensorReport"].reverse()
    assert event_hash_id(event) == GOLDEN[name]


def test_event_id_record_time_and_error_declaration_do_not_matter():
    event = HAND_WRITTEN["object_recall_with_error_declaration"]
    bare = {k: v for k, v in event.items() if k not in ("eventID", "recordTime", "errorDeclaration")}
    assert event_hash_id(bare) == GOLDEN["object_recall_with_error_declaration"]
    other = _with(event, eventID="urn:uuid:6d1b2b6e-0000-4000-8000-000000000000", recordTime="2030-01-01T00:00:00Z")
    assert event_hash_id(other) == GOLDEN["object_recall_with_error_declaration"]


def test_equivalent_spellings_give_the_same_id():
    ref = event_hash_id(BASE)
    # the same instant written in another zone (eventTimeZoneOffset unchanged)
    assert event_hash_id(_with(BASE, eventTime="2024-08-20T08:20:30.4Z")) == ref
    assert event_hash_id(_with(BASE, eventTime="2024-08-20T10:20:30.400000+02:00")) == ref
    # CBV values: short name, CBV 1.x URN, CBV 2.0 web IRI
    assert event_hash_id(_with(BASE, bizStep="urn:epcglobal:cbv:bizstep:shipping")) == ref
    assert event_hash_id(_with(BASE, bizStep="https://ref.gs1.org/cbv/BizStep-shipping")) == ref
    assert event_hash_id(_with(BASE, disposition="urn:epcglobal:cbv:disp:in_transit")) == ref
    # identifiers: EPC URN vs (non-canonical) GS1 Digital Link
    dl = ["https://example.com/gtin/4012345111118/lot/L1/ser/1001?17=261231"]
    assert event_hash_id(_with(BASE, epcList=dl)) == ref
    assert event_hash_id(_with(BASE, parentID="https://id.gs1.org/00/140123450000000167")) == ref


@pytest.mark.parametrize(
    "change",
    [
        {"epcList": ["urn:epc:id:sgtin:4012345.011111.1002"]},  # one character of an EPC
        {"eventTime": "2024-08-20T10:20:30.401+02:00"},  # one millisecond
        {"action": "DELETE"},
        {"bizStep": "receiving"},
        {"disposition": "in_progress"},
        {"eventTimeZoneOffset": "+03:00"},
        {"parentID": "urn:epc:id:sscc:4012345.1000000017"},
        {"bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:PO-779"}]},
        {"sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}]},
        {"ex:note": "x", "@context": EX_CONTEXT},
    ],
)
def test_relevant_changes_change_the_id(change):
    assert event_hash_id(_with(BASE, **change)) != event_hash_id(BASE)


def test_quantity_and_ilmd_changes_change_the_id():
    event = HAND_WRITTEN["transformation_with_extensions"]
    ref = event_hash_id(event)
    changed = copy.deepcopy(event)
    changed["outputQuantityList"][0]["quantity"] = 51
    assert event_hash_id(changed) != ref
    changed = copy.deepcopy(event)
    changed["ilmd"]["cbvmda:lotNumber"] = "CHEESE-2"
    assert event_hash_id(changed) != ref
    changed = copy.deepcopy(event)
    changed["outputQuantityList"][0]["quantity"] = 50.0  # same number
    assert event_hash_id(changed) == ref


def test_entry_key_order_is_kept():
    """The reference renders a bizTransaction / source / destination entry in
    document order (and so do we): ``{"bizTransaction", "type"}`` hashes apart
    from ``{"type", "bizTransaction"}``."""
    swapped = _with(
        BASE,
        bizTransactionList=[
            {"bizTransaction": t["bizTransaction"], "type": t["type"]} for t in BASE["bizTransactionList"]
        ],
    )
    assert event_hash_id(swapped) != event_hash_id(BASE)


# --------------------------------------------------------------------------- errors and documented edges


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (["not", "an", "object"], "event"),
        ({"eventTime": "2024-01-01T00:00:00Z"}, "type"),
        ({"type": "QuantityEvent", "eventTime": "2024-01-01T00:00:00Z"}, "type"),
        ({"type": "ObjectEvent"}, "eventTime"),
        ({"type": "ObjectEvent", "eventTime": 1704067200}, "eventTime"),
        ({"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00"}, "eventTime"),  # no offset
        ({"type": "ObjectEvent", "eventTime": "2024-02-30T00:00:00Z"}, "eventTime"),
        ({"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00+25:00"}, "eventTime"),
        (
            {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "bizTransactionList": ["urn:x:1"]},
            "bizTransactionList",
        ),
        ({"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "@context": [42]}, "@context"),
        ({"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "@context": [{"gs1": "https://x/"}]}, "@context"),
        (
            {
                "type": "ObjectEvent",
                "eventTime": "2024-01-01T00:00:00Z",
                "sensorElementList": [{"sensorMetadata": {"time": "yesterday"}}],
            },
            "time",
        ),
    ],
)
def test_unusable_input_raises_value_error_naming_the_field(event, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        event_hash_id(event)


def test_fraction_rounding_is_half_even_and_carries():
    def t(s: str) -> str:
        return event_prehash({"type": "ObjectEvent", "eventTime": s}).split("eventTime=")[1]

    assert t("2024-01-01T00:00:00.0025Z") == "2024-01-01T00:00:00.002Z"
    assert t("2024-01-01T00:00:00.0035Z") == "2024-01-01T00:00:00.004Z"
    assert t("2024-01-01T00:00:00.00250001Z") == "2024-01-01T00:00:00.002Z"  # cut to microseconds first
    assert t("2024-01-01T00:00:00.1Z") == "2024-01-01T00:00:00.100Z"
    # rounds up into the next second, and day (the reference drops such events)
    assert t("2024-12-31T23:59:59.9996+00:00") == "2025-01-01T00:00:00.000Z"
    assert t("2024-03-01T00:10:00-00:30") == "2024-03-01T00:40:00.000Z"
    assert t("2024-03-01T00:10:00+00:30") == "2024-02-29T23:40:00.000Z"


@needs_oracle
def test_documented_divergences_from_the_oracle():
    """Inputs the reference cannot hash (it logs an error and drops the event)."""
    rounding_up = _with(BASE, eventTime="2024-08-20T10:20:59.9999+02:00")
    float_overflow = _with(BASE, ilmd={"cbvmda:lotNumber": "3E805"})
    untyped_transaction = _with(BASE, bizTransactionList=[{"bizTransaction": "urn:epcglobal:cbv:bt:4012345000016:9"}])
    assert oracle_hash_ids(rounding_up) == []
    assert oracle_hash_ids(float_overflow) == []
    with pytest.raises(IndexError):
        oracle_hash_ids(untyped_transaction)
    assert "eventTime=2024-08-20T08:21:00.000Z" in event_prehash(rounding_up)
    assert "ilmdcbvmda:lotNumber=3E805" in event_prehash(float_overflow)
    assert "bizTransactionListbizTransaction=urn:epcglobal:cbv:bt:4012345000016:9" in event_prehash(untyped_transaction)


@needs_oracle
def test_reference_quirks_we_follow():
    """Odd but deliberate: an ID nobody else can recompute would be worthless."""
    cases = [
        # a value that is the tail of a CBV IRI used elsewhere in the event is rewritten
        _with(BASE, ilmd={"cbvmda:lotNumber": "shipping"}),
        # numbers are normalised wherever they appear, also in lots and extensions
        _with(BASE, ilmd={"cbvmda:lotNumber": "0012.50", "cbvmda:itemCount": "1e3"}),
        # only the EPCIS JSON-LD types are excluded, other "type" keys stay
        _with(BASE, **{"ex:data": {"type": "x", "ex:v": "1"}, "@context": EX_CONTEXT}),
        # a trailing '#fragment' makes a Digital Link URI unusable: kept verbatim
        _with(BASE, epcList=["https://id.gs1.org/01/04012345111118/21/1001#x"]),
        # percent-escapes are not allowed in canonical Digital Link values
        _with(
            BASE, epcList=["https://id.gs1.org/01/04012345111118/21/10%2F01", "urn:epc:id:sgtin:4012345.011111.10%2F01"]
        ),
        # booleans and nulls are rendered with Python's spelling
        _with(BASE, ilmd={"ex:flag": True, "ex:none": None}, **{"@context": EX_CONTEXT}),
        # untyped extension key order inside nested objects does not matter
        _with(BASE, **{"ex:x": {"ex:b": [2, 1], "ex:a": {"ex:c": "3"}}, "@context": EX_CONTEXT}),
        # a tail shared by two CBV IRIs is ambiguous: not rewritten
        _with(
            BASE,
            bizStep="https://ref.gs1.org/cbv/BizStep-x",
            disposition="https://ref.gs1.org/cbv/Disp-x",
            ilmd={"cbvmda:a": "x", "cbvmda:b": "Disp-x"},
        ),
        # IRIs that JSON-LD expansion yields from compact IRIs, prefixes, @vocab, @type
        _with(BASE, bizStep="gs1:Foo", disposition="cbv:Disp-bar", ilmd={"cbvmda:y": "Foo", "cbvmda:z": "bar"}),
        _with(BASE, readPoint={"id": "cbv:Loc-1"}, ilmd={"cbvmda:y": "1", "cbvmda:z": "Loc-1"}),
        _with(
            BASE,
            **{
                "@context": [{"x": "https://ref.gs1.org/"}],
                "ilmd": {"x:a": "bar", "x:b": "cbv/Foo-bar"},
                "epcList": ["x:cbv/Foo-bar"],
            },
        ),
        _with(
            BASE, **{"@context": [{"@vocab": "https://ref.gs1.org/cbv/"}], "bizStep": "weird", "ilmd": {"q": "weird"}}
        ),
        _with(BASE, **{"@context": EX_CONTEXT, "ex:obj": {"type": "gs1:Mass"}, "ilmd": {"ex:a": "Mass"}}),
        _with(BASE, errorDeclaration={"reason": "did_not_occur"}, ilmd={"cbvmda:y": "did_not_occur"}),
        _with(BASE, plainkey="https://ref.gs1.org/cbv/Disp-foo", ilmd={"cbvmda:y": "foo"}),  # dropped key: no effect
        # list-valued ordered properties and quantities given as strings
        _with(
            BASE,
            certificationInfo=["b", "a"],
            quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.012345.1", "quantity": "5.0"}],
        ),
    ]
    for event in cases:
        assert event_prehash(event) == _oracle_prehash(event)


@needs_oracle
def test_context_tables_match_the_shipped_epcis_context():
    from ledger.epcis.hashid_oracle import context_document

    ctx = context_document(EPCIS_CONTEXT_URL)["@context"]

    def scoped(term_def: dict[str, Any]) -> dict[str, str]:
        out = {}
        for k, v in term_def["@context"].items():
            if isinstance(v, str) and ":" in v:
                prefix, local = v.split(":", 1)
                out[k] = EPCIS_PREFIXES[prefix] + local
        return out

    assert scoped(ctx["bizStep"]) == BIZSTEP
    assert scoped(ctx["disposition"]) == DISP
    pd = {k: EPCIS_PREFIXES["cbv"] + v.split(":", 1)[1] for k, v in ctx["persistentDisposition"]["@context"][0].items()}
    assert pd == DISP
    assert scoped(ctx["bizTransactionList"]["@context"]["type"]) == BTT
    assert scoped(ctx["sourceList"]["@context"]["type"]) == SDT
    assert scoped(ctx["destinationList"]["@context"]["type"]) == SDT
    assert scoped(ctx["errorDeclaration"]["@context"]["reason"]) == ER
    report = ctx["sensorElementList"]["@context"]["sensorReport"]["@context"]
    assert scoped(report["type"]) == MEASUREMENT
    assert scoped(report["exception"]) == EXCEPTION
    assert scoped(report["component"]) == COMP
    assert {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("/", ":", "#"))} == EPCIS_PREFIXES
    # every IRI-valued (@type: @id) or vocabulary-valued top-level term is known as such
    for term, definition in ctx.items():
        if isinstance(definition, dict) and definition.get("@type") in ("@id", "@vocab"):
            expected = IRI if definition["@type"] == "@id" else VOCAB
            assert SCOPES["top"][term].kind == expected, term


# --------------------------------------------------------------------------- property-based: strategies

DIGITS = "0123456789"
SAFE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefxyz0123456789-_"  # serial / lot characters valid in URN and DL


@st.composite
def gtin_parts(draw) -> tuple[str, str]:
    cp_len = draw(st.integers(6, 12))
    cp = draw(st.text(DIGITS, min_size=cp_len, max_size=cp_len))
    item = draw(st.text(DIGITS, min_size=13 - cp_len, max_size=13 - cp_len))
    return cp, item


def _gtin14(cp: str, item: str) -> str:
    body = item[0] + cp + item[1:]
    return body + gs1_check_digit(body)


serials = st.text(SAFE, min_size=1, max_size=20)


@st.composite
def sgtin(draw) -> str:
    cp, item = draw(gtin_parts())
    serial = draw(serials)
    form = draw(st.sampled_from(["urn", "urn", "dl", "dl-short", "dl-host"]))
    gtin = _gtin14(cp, item)
    if form == "urn":
        return f"urn:epc:id:sgtin:{cp}.{item}.{serial}"
    if form == "dl":
        return f"https://id.gs1.org/01/{gtin}/21/{serial}"
    if form == "dl-short":
        return f"https://id.gs1.org/gtin/{gtin}/lot/{draw(serials)}/ser/{serial}"
    if gtin.startswith("0") and draw(st.booleans()):
        gtin = gtin[1:]  # the GTIN-13 spelling: padded back to 14 digits
    return f"https://brand.example.com/01/{gtin}/21/{serial}?17=261231"


@st.composite
def sscc(draw) -> str:
    cp_len = draw(st.integers(6, 12))
    cp = draw(st.text(DIGITS, min_size=cp_len, max_size=cp_len))
    ref = draw(st.text(DIGITS, min_size=17 - cp_len, max_size=17 - cp_len))
    if draw(st.booleans()):
        return f"urn:epc:id:sscc:{cp}.{ref}"
    body = ref[0] + cp + ref[1:]
    return f"https://id.gs1.org/00/{body}{gs1_check_digit(body)}"


@st.composite
def location(draw) -> str:
    cp_len = draw(st.integers(6, 12))
    cp = draw(st.text(DIGITS, min_size=cp_len, max_size=cp_len))
    ref = draw(st.text(DIGITS, min_size=12 - cp_len, max_size=12 - cp_len))
    ext = draw(st.sampled_from(["0", "0", "1", "dock-3"]))
    if draw(st.booleans()):
        return f"urn:epc:id:sgln:{cp}.{ref}.{ext}"
    gln = cp + ref + gs1_check_digit(cp + ref)
    return f"https://id.gs1.org/414/{gln}" + ("" if ext == "0" else f"/254/{ext}")


@st.composite
def party(draw) -> str:
    cp_len = draw(st.integers(6, 12))
    cp = draw(st.text(DIGITS, min_size=cp_len, max_size=cp_len))
    ref = draw(st.text(DIGITS, min_size=12 - cp_len, max_size=12 - cp_len))
    return (
        f"urn:epc:id:pgln:{cp}.{ref}"
        if draw(st.booleans())
        else f"https://id.gs1.org/417/{cp}{ref}{gs1_check_digit(cp + ref)}"
    )


@st.composite
def epc_class(draw) -> str:
    cp, item = draw(gtin_parts())
    lot = draw(serials)
    kind = draw(st.sampled_from(["lgtin", "dl", "idpat"]))
    if kind == "lgtin":
        return f"urn:epc:class:lgtin:{cp}.{item}.{lot}"
    if kind == "idpat":
        return f"urn:epc:idpat:sgtin:{cp}.{item}.*"
    return f"https://id.gs1.org/01/{_gtin14(cp, item)}/10/{lot}"


other_ids = st.sampled_from(
    [
        "urn:epc:id:giai:4012345.ASSET-1",
        "urn:epc:id:grai:4012345.55555.987",
        "urn:epc:id:gdti:4012345.55555.1234",
        "urn:epc:id:gsrn:4012345.0000012345",
        "urn:uuid:8e5c4f5e-5f0b-4d0a-9a5e-1c5d1a9c0f00",
        "https://example.com/assets/42",
    ]
)
epcs = st.one_of(sgtin(), sgtin(), sscc(), other_ids)


@st.composite
def timestamp(draw) -> tuple[str, str]:
    """(eventTime, eventTimeZoneOffset)."""
    moment = draw(
        st.datetimes(
            min_value=__import__("datetime").datetime(2000, 1, 1),
            max_value=__import__("datetime").datetime(2035, 12, 31),
        )
    )
    offset = draw(st.integers(-14 * 4, 14 * 4)) * 15
    sign = "+" if offset >= 0 else "-"
    off = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    frac = draw(st.one_of(st.just(""), st.text(DIGITS, min_size=1, max_size=9).map(lambda d: "." + d)))
    zone = draw(st.sampled_from([off, off, "Z"])) if offset == 0 else off
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone, off


def cbv(table: dict[str, str], urn: str | None = None, extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw) -> str:
        short = draw(st.sampled_from(sorted(table) + list(extra)))
        form = draw(st.sampled_from(["short", "short", "urn", "iri"]))
        if short in extra or form == "short":
            return short
        if form == "urn" and urn:
            return urn + short
        return table[short]

    return build()


bizsteps = cbv(BIZSTEP, "urn:epcglobal:cbv:bizstep:", ("urn:example:bizstep:grading",))
dispositions = cbv(DISP, "urn:epcglobal:cbv:disp:")
btts = cbv(BTT, "urn:epcglobal:cbv:btt:")
sdts = cbv(SDT, "urn:epcglobal:cbv:sdt:")
numbers = st.one_of(
    st.integers(0, 100_000),
    st.floats(0, 10_000, allow_nan=False).map(lambda f: round(f, 3)),
    st.sampled_from([1.0, 0.5, 2.50]),
)
lots = st.text(SAFE, min_size=1, max_size=12)


@st.composite
def quantity_element(draw) -> dict[str, Any]:
    q: dict[str, Any] = {"epcClass": draw(epc_class())}
    if draw(st.booleans()):
        q["quantity"] = draw(numbers)
        if draw(st.booleans()):
            q["uom"] = draw(st.sampled_from(["KGM", "LTR", "EA", "MTR"]))
    return q


@st.composite
def biz_transaction(draw) -> dict[str, Any]:
    pairs = [("type", draw(btts)), ("bizTransaction", f"urn:epcglobal:cbv:bt:4012345000016:{draw(lots)}")]
    return dict(pairs if draw(st.booleans()) else pairs[::-1])


@st.composite
def sensor_element(draw) -> dict[str, Any]:
    element: dict[str, Any] = {}
    if draw(st.booleans()):
        meta: dict[str, Any] = {"time": draw(timestamp())[0]}
        if draw(st.booleans()):
            meta["deviceID"] = "urn:epc:id:giai:4012345.SENSOR-" + draw(st.text(DIGITS, min_size=1, max_size=3))
        if draw(st.booleans()):
            meta["startTime"], meta["endTime"] = draw(timestamp())[0], draw(timestamp())[0]
        element["sensorMetadata"] = meta
    reports = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(MEASUREMENT)[:8] + ["Temperature"]))
        report: dict[str, Any] = {"type": draw(st.sampled_from([kind, kind, "gs1:" + kind, MEASUREMENT[kind]]))}
        report["value"] = draw(st.floats(-50, 50, allow_nan=False).map(lambda f: round(f, 2)))
        if draw(st.booleans()):
            report["uom"] = draw(st.sampled_from(["CEL", "A93", "KGM"]))
        if draw(st.integers(0, 4)) == 0:
            report["exception"] = draw(st.sampled_from(sorted(EXCEPTION)))
        if draw(st.integers(0, 4)) == 0:
            report["component"] = draw(st.sampled_from(sorted(COMP)))
        if draw(st.integers(0, 4)) == 0:
            report["stringValue"] = draw(st.sampled_from(["ok", "shipping", "high"]))
        if draw(st.integers(0, 4)) == 0:
            report["booleanValue"] = draw(st.booleans())
        if draw(st.integers(0, 4)) == 0:
            report["time"] = draw(timestamp())[0]
        reports.append(report)
    element["sensorReport"] = reports
    return element


EXT_CONTEXTS = [
    [{"ex": "https://example.com/ns/"}],
    [{"ex": "urn:example:ns:"}],
    ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.com/ns/"}],
]
ext_values = st.one_of(lots, numbers, st.booleans(), st.sampled_from(["shipping", "in_transit", "ok"]))


@st.composite
def events(draw) -> dict[str, Any]:
    etype = draw(st.sampled_from(sorted(EVENT_TYPES)))
    when, off = draw(timestamp())
    ev: dict[str, Any] = {"type": etype, "eventTime": when, "eventTimeZoneOffset": off}
    some_epcs = st.lists(epcs, min_size=0, max_size=4)
    if etype in ("ObjectEvent", "TransactionEvent"):
        ev["epcList"] = draw(some_epcs)
        if draw(st.booleans()):
            ev["quantityList"] = draw(st.lists(quantity_element(), min_size=1, max_size=3))
    if etype in ("AggregationEvent", "AssociationEvent") or (etype == "TransactionEvent" and draw(st.booleans())):
        ev["parentID"] = draw(st.one_of(sscc(), other_ids))
    if etype in ("AggregationEvent", "AssociationEvent"):
        ev["childEPCs"] = draw(some_epcs)
        if draw(st.booleans()):
            ev["childQuantityList"] = draw(st.lists(quantity_element(), min_size=1, max_size=2))
    if etype == "TransformationEvent":
        ev["inputEPCList"] = draw(some_epcs)
        ev["outputEPCList"] = draw(some_epcs)
        ev["inputQuantityList"] = draw(st.lists(quantity_element(), min_size=0, max_size=2))
        ev["outputQuantityList"] = draw(st.lists(quantity_element(), min_size=0, max_size=2))
        if draw(st.booleans()):
            ev["transformationID"] = "urn:epc:id:gdti:4012345.55555." + draw(st.text(DIGITS, min_size=1, max_size=5))
    else:
        ev["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
    if draw(st.integers(0, 5)):
        ev["bizStep"] = draw(bizsteps)
    if draw(st.booleans()):
        ev["disposition"] = draw(dispositions)
    if draw(st.integers(0, 4)):
        ev["readPoint"] = {"id": draw(location())}
    if draw(st.booleans()):
        ev["bizLocation"] = {"id": draw(location())}
    if draw(st.booleans()) or etype == "TransactionEvent":
        ev["bizTransactionList"] = draw(st.lists(biz_transaction(), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        ev["sourceList"] = [{"type": draw(sdts), "source": draw(party())}]
        ev["destinationList"] = [{"destination": draw(location()), "type": draw(sdts)}]
    if draw(st.integers(0, 3)) == 0:
        ev["sensorElementList"] = draw(st.lists(sensor_element(), min_size=1, max_size=2))
    if draw(st.integers(0, 5)) == 0:
        ev["persistentDisposition"] = {
            "set": draw(st.lists(dispositions, min_size=1, max_size=2)),
            "unset": [draw(dispositions)],
        }
    if draw(st.integers(0, 5)) == 0:
        ev["certificationInfo"] = "https://cert.example.com/" + draw(lots)
    if etype in ("ObjectEvent", "TransformationEvent") and draw(st.booleans()):
        ilmd: dict[str, Any] = {"cbvmda:lotNumber": draw(lots)}
        if draw(st.booleans()):
            ilmd["cbvmda:itemExpirationDate"] = draw(st.dates()).isoformat()
        ev["ilmd"] = ilmd
    if draw(st.integers(0, 3)) == 0:
        ev["@context"] = draw(st.sampled_from(EXT_CONTEXTS))
        ev["ex:note"] = draw(ext_values)
        if draw(st.booleans()):
            ev["ex:detail"] = {"ex:a": draw(ext_values), "ex:b": draw(st.lists(ext_values, max_size=3))}
        if "ilmd" in ev and draw(st.booleans()):
            ev["ilmd"]["ex:grade"] = draw(ext_values)
    if draw(st.integers(0, 4)) == 0:
        ev["eventID"] = f"urn:uuid:{draw(st.integers(0, 2**128 - 1)):032x}"
    if draw(st.integers(0, 4)) == 0:
        ev["recordTime"] = draw(timestamp())[0]
    items = draw(st.permutations(list(ev.items())))
    return dict(items)


ORACLE_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# --------------------------------------------------------------------------- property-based: tests


@needs_oracle
@ORACLE_SETTINGS
@given(events())
def test_random_events_match_oracle(event):
    theirs = _oracle_prehash(event)
    # The reference drops events it cannot hash (see test_documented_divergences...):
    # fractions that round up to a full second, float-overflowing values ("3E805").
    assume(theirs is not None)
    assert event_prehash(event) == theirs
    assert [event_hash_id(event)] == oracle_hash_ids(event)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(events(), st.randoms(use_true_random=False))
def test_random_events_invariances(event, rng):
    ref = event_hash_id(event)
    # key order (except inside bizTransaction / source / destination entries)
    shuffled = _shuffled(event, rng)
    for key in ("bizTransactionList", "sourceList", "destinationList"):
        if key in event:
            shuffled[key] = copy.deepcopy(event[key])
    assert event_hash_id(shuffled) == ref
    # unordered lists
    reordered = copy.deepcopy(event)
    for value in reordered.values():
        if isinstance(value, list):
            rng.shuffle(value)
    assert event_hash_id(reordered) == ref
    # eventID / recordTime
    assert event_hash_id(_with(event, eventID="urn:uuid:1", recordTime="2001-01-01T00:00:00Z")) == ref
    # relevant: the action, the time by one millisecond
    if "action" in event:
        other = {"ADD": "DELETE", "OBSERVE": "ADD", "DELETE": "OBSERVE"}[event["action"]]
        assert event_hash_id(_with(event, action=other)) != ref
    later = _with(event, eventTime=_plus_one_ms(event["eventTime"]))
    assert event_hash_id(later) != ref


def _plus_one_ms(ts: str) -> str:
    utc = event_prehash({"type": "ObjectEvent", "eventTime": ts}).split("eventTime=")[1]
    from datetime import datetime, timedelta

    moment = datetime.strptime(utc, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(milliseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(events())
def test_fast_path_equals_tree_path(event):
    """``event_prehash`` (per-property fast path) must equal the plain tree rendering."""
    assert event_prehash(event) == _prehash_from_tree(event)


def _prehash_from_tree(event: dict[str, Any]) -> str:
    ctx = hashid._context_of(event.get("@context"), None)
    iris = hashid.expanded_vocabulary_iris(event, ctx)
    repl = hashid.replacement_table(iris) if iris else {}
    return "eventType=" + event["type"] + hashid._body_from_tree(event, event["type"], ctx, repl)


# Unusual but hashable shapes: extension subtrees (nested objects, lists, "...List"
# keys, keys the structure fixes rename, namespaced and plain keys, numbers, booleans,
# nulls, CBV tails, compact IRIs) grafted anywhere in a valid event.  They drive the
# general tree machinery instead of the fast paths, and the short-value heuristic.
ODD_KEYS = st.sampled_from(
    ["ex:a", "ex:b", "ex:itemList", "ex:time", "ex:transaction", "ex2:z", "uom", "quantity", "epc", "id", "type",
     "comment", "childEPCs", "inputEPC", "value", "time", "ex:sourceList", "bizTransaction", "sensorMetadata",
     "sensorReport", "set"]
)  # fmt: skip
ODD_SCALARS = st.one_of(
    st.sampled_from(
        ["x", "shipping", "01.50", "1e3", "urn:epc:id:sgtin:4012345.011111.9", "ex:val", "  pad  ", "", "Temperature",
         "https://gs1.org/voc/Temperature", "cbv:BizStep-foo", "gs1:Mass", "2024-01-01T00:00:00+01:00", "OBSERVE"]
    ),
    st.integers(-5, 5), st.booleans(), st.none(), st.floats(-3, 3, allow_nan=False),
)  # fmt: skip
ODD_TREES = st.recursive(
    ODD_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ODD_KEYS, inner, max_size=3)),
    max_leaves=6,
)
ODD_PLACES = ["top", "readPoint", "bizLocation", "ilmd", "quantity", "sensorElement", "sensorReport", "sensorMetadata",
              "bizTransaction", "source", "persistentDisposition", "epcList"]  # fmt: skip


@st.composite
def odd_events(draw) -> dict[str, Any]:
    ev = draw(events())
    ev["@context"] = draw(st.sampled_from([[{"ex": "https://example.com/ns/", "ex2": "urn:x:"}], [{"ex": "urn:ex:"}]]))
    for _ in range(draw(st.integers(1, 3))):
        place, key, value = draw(st.sampled_from(ODD_PLACES)), draw(ODD_KEYS), draw(ODD_TREES)
        if key == "type" and place == "top":
            continue
        targets = {
            "top": [ev],
            "readPoint": [ev.get("readPoint")],
            "bizLocation": [ev.get("bizLocation")],
            "ilmd": [ev.get("ilmd")],
            "persistentDisposition": [ev.get("persistentDisposition")],
            "quantity": (ev.get("quantityList") or ev.get("inputQuantityList") or [])[:1],
            "sensorElement": ev.get("sensorElementList", [])[:1],
            "sensorReport": [
                e["sensorReport"][0]
                for e in ev.get("sensorElementList", [])[:1]
                if isinstance(e.get("sensorReport"), list) and e["sensorReport"]
            ],
            "sensorMetadata": [e.get("sensorMetadata") for e in ev.get("sensorElementList", [])[:1]],
            "bizTransaction": ev.get("bizTransactionList", [])[:1],
            "source": ev.get("sourceList", [])[:1],
        }.get(place, [])
        for target in targets:
            if isinstance(target, dict):
                target[key] = value
        if place == "epcList" and "epcList" in ev:
            ev["epcList"].append(value)
    return ev


@needs_oracle
@ORACLE_SETTINGS
@given(odd_events())
def test_unusual_shapes_match_oracle(event):
    try:
        theirs = _oracle_prehash(event)
    except Exception:  # noqa: BLE001 - the reference fails on many odd values (pyld, IndexError...)
        theirs = None
    assume(theirs is not None)
    assert event_prehash(event) == theirs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(odd_events())
def test_unusual_shapes_fast_path_equals_tree_path(event):
    try:
        fast = event_prehash(event)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            _prehash_from_tree(event)
        return
    assert fast == _prehash_from_tree(event)


@settings(max_examples=200, deadline=None)
@given(sgtin(), st.sampled_from(["urn", "dl"]))
def test_sgtin_forms_are_one_identifier(uri, _):
    canonical = canonical_gs1_uri(uri)
    assert canonical is not None and canonical.startswith("https://id.gs1.org/01/")
    assert re.fullmatch(r"https://id\.gs1\.org/01/[0-9]{14}/21/.+", canonical)


# --------------------------------------------------------------------------- identifier normaliser vs oracle

SCHEMES = [
    "id:sgtin", "id:sscc", "id:sgln", "id:grai", "id:giai", "id:gsrn", "id:gsrnp", "id:gdti", "id:cpi", "id:sgcn",
    "id:ginc", "id:gsin", "id:itip", "id:upui", "id:pgln", "class:lgtin", "idpat:sgtin", "idpat:grai", "idpat:gdti",
    "idpat:sgcn", "idpat:cpi", "idpat:itip", "idpat:upui",
]  # fmt: skip
G_CHARS = st.one_of(
    st.sampled_from(list("!')(*+,.:;=-_") + ["%2F", "%21", "%5F", "%2G", "%", "%3a"]),
    st.text(SAFE, min_size=1, max_size=3),
)
uri_part = st.one_of(st.text(DIGITS, max_size=14), st.just("*"), st.lists(G_CHARS, max_size=12).map("".join))


@st.composite
def epc_like(draw) -> str:
    scheme = draw(st.sampled_from(SCHEMES))
    cp = draw(st.text(DIGITS, min_size=5, max_size=13))
    if draw(st.booleans()):  # structurally plausible: the usual digit budget
        budget = {"id:sscc": 17, "id:gsrn": 17, "id:gsrnp": 17, "id:gsin": 16}.get(
            scheme, 13 if "gtin" in scheme or "itip" in scheme or "upui" in scheme else 12
        )
        ref = draw(st.text(DIGITS, min_size=max(0, budget - len(cp)), max_size=max(0, budget - len(cp))))
        parts = [cp, ref] + draw(st.lists(uri_part, max_size=3))
    else:
        parts = [cp] + draw(st.lists(uri_part, max_size=4))
    return "urn:epc:" + scheme + ":" + ".".join(parts)


KEYS = [
    "01",
    "gtin",
    "00",
    "sscc",
    "414",
    "gln",
    "417",
    "8006",
    "itip",
    "8010",
    "cpid",
    "8017",
    "8018",
    "255",
    "253",
    "401",
    "402",
    "8003",
    "8004",
]
D_CHARS = st.sampled_from(list("\"'-.0123456789;<=>?ABCZabcz_%/#:!"))


@st.composite
def dl_like(draw) -> str:
    host = draw(
        st.sampled_from(
            ["https://id.gs1.org", "https://example.com", "http://example.com/shop", "https://idXgs1.org", "https:/"]
        )
    )
    key = draw(st.sampled_from(KEYS))
    uri = host + "/" + key + "/" + draw(st.text(DIGITS, min_size=3, max_size=20))
    for _ in range(draw(st.integers(0, 3))):
        q = draw(st.sampled_from(["10", "lot", "21", "ser", "22", "cpv", "235", "254", "8011"]))
        uri += "/" + q + "/" + "".join(draw(st.lists(D_CHARS, max_size=22)))
    uri += draw(st.sampled_from(["", "", "/", "?17=261231", "?linkType=all", "#frag"]))
    return uri


@needs_oracle
@settings(max_examples=1500, deadline=None)
@given(st.one_of(epc_like(), dl_like()))
def test_identifier_canonicalisation_matches_oracle(uri):
    from epcis_event_hash_generator.dl_normaliser import normaliser

    uri = uri.strip()
    assert canonical_gs1_uri(uri) == normaliser(uri)


@needs_oracle
def test_identifier_examples_match_oracle():
    from epcis_event_hash_generator.dl_normaliser import normaliser

    examples = [
        "urn:epc:id:sgtin:4012345.011111.9876",
        "urn:epc:id:sgtin:0614141.812345.6789%2F1",
        "urn:epc:id:sscc:4012345.0000000017",
        "urn:epc:id:sgln:4012345.00001.0",
        "urn:epc:id:sgln:012345678901..ext",
        "urn:epc:id:grai:4012345.55555.987",
        "urn:epc:id:grai:401234555555...987",
        "urn:epc:id:giai:4012345.ASSET(1)",
        "urn:epc:id:gsrn:4012345.0000012345",
        "urn:epc:id:gsrnp:4012345.0000012345",
        "urn:epc:id:gdti:0614141.12345.400",
        "urn:epc:id:gdti:0614141.12345400",
        "urn:epc:id:cpi:0614141.123ABC.123456789",
        "urn:epc:id:sgcn:4012345.67890.04711",
        "urn:epc:id:ginc:4012345.CONSIGNMENT+1",
        "urn:epc:id:gsin:4012345.222333444",
        "urn:epc:id:itip:4012345.011111.01.02.987",
        "urn:epc:id:upui:4012345.011111.ABC:D",
        "urn:epc:id:pgln:4012345.00000",
        "urn:epc:class:lgtin:4012345.012345.998877",
        "urn:epc:idpat:sgtin:4012345.011111.*",
        "urn:epc:idpat:grai:4012345.55555.*",
        "urn:epc:idpat:gdti:4012345.55555.*",
        "urn:epc:idpat:sgcn:4012345.67890.*",
        "urn:epc:idpat:cpi:0614141.123ABC.*",
        "urn:epc:idpat:itip:4012345.011111.01.02.*",
        "urn:epc:idpat:upui:4012345.011111.*",
        "https://id.gs1.org/01/09520123456788/21/12345",
        "https://example.com/gtin/9520123456788/lot/ABC/ser/12345?17=251231",
        "https://example.com/01/09520123456788/22/2A/10/ABC",
        "https://example.com/01/09520123456788/22/2A",
        "http://example.com/01/12345678/10/L1",
        "https://id.gs1.org/8006/095201234567880102/21/7",
        "https://id.gs1.org/00/340123451000000012#frag",
        "https://id.gs1.org/414/4012345000016/254/dock-3",
        "https://id.gs1.org/8010/0614141ABC/8011/123",
        "urn:epcglobal:cbv:bt:4012345000016:1234",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "12.5",
    ]
    for uri in examples:
        assert canonical_gs1_uri(uri) == normaliser(uri), uri
