"""EPCIS 2.0 capture validation: a valid document of every event type, then one
mutation at a time, each rejected with the event index and field it breaks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from ledger.epcis.errors import (
    DocumentTooLargeError,
    EPCISError,
    InvalidDocumentError,
    InvalidEventError,
    VocabularyError,
)
from ledger.epcis.validate import MAX_EVENTS_PER_DOCUMENT, validate_document, validate_event
from ledger.epcis.vocab import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    BTT_CUSTOMS_DECLARATION,
    DISPOSITION,
    SOURCE_DESTINATION_TYPE,
    TermKind,
    classify,
    is_cbv_term,
    is_extension,
    normalize,
)
from ledger.errors import LedgerError

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
PALLET = "urn:epc:id:sscc:9521234.0123456789"
FARM = "urn:epc:id:sgln:9521234.00001.0"
PLANT = "urn:epc:id:sgln:9521234.00002.0"
APPLE_LOT = "urn:epc:class:lgtin:9521234.054321.HARVEST-0301"

HARVEST, JUICING, PACKING, SHIPPING, CUSTOMS, LOGGER, DISPENSING = range(7)


def valid_document() -> dict[str, Any]:
    """Farm to table, lab to hospital and cross-border events, one of each type at least."""
    events = [
        {  # farm: an apple lot is harvested
            "type": "ObjectEvent",
            "action": "ADD",
            "eventTime": "2025-03-01T06:00:00Z",
            "eventTimeZoneOffset": "+08:00",
            "bizStep": "commissioning",
            "disposition": "active",
            "quantityList": [{"epcClass": APPLE_LOT, "quantity": 1200.5, "uom": "KGM"}],
            "readPoint": {"id": FARM},
            "bizLocation": {"id": "https://id.gs1.org/414/9521234000013"},
            "ilmd": {"cbvmda:itemExpirationDate": "2025-03-20", "example:orchardBlock": "B7"},
            "example:harvestCrew": {"lead": "W. Chen", "size": 12},
        },
        {  # farm: apples pressed into juice
            "type": "TransformationEvent",
            "eventTime": "2025-03-02T09:15:30.250+08:00",
            "eventTimeZoneOffset": "+08:00",
            "transformationID": "urn:uuid:6f0b7a52-4f4b-4e61-9d0c-2f1f2a8a1c11",
            "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
            "inputQuantityList": [{"epcClass": APPLE_LOT, "quantity": 800, "uom": "KGM"}],
            "outputQuantityList": [
                {"epcClass": "https://id.gs1.org/01/09521234543220/10/JUICE-0302", "quantity": 2400}
            ],
            "readPoint": {"id": PLANT},
            "ilmd": {"cbvmda:bestBeforeDate": "2025-09-30"},
        },
        {  # drugs: serialized packs packed onto a pallet
            "type": "AggregationEvent",
            "action": "ADD",
            "eventTime": "2025-03-03T10:00:00-05:00",
            "eventTimeZoneOffset": "-05:00",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-packing",
            "disposition": "urn:epcglobal:cbv:disp:in_progress",
            "parentID": PALLET,
            "childEPCs": [
                "urn:epc:id:sgtin:9521234.054321.PK001",
                "https://id.gs1.org/01/09521234543213/10/B-12/21/PK002?17=270131",
            ],
            "readPoint": {"id": FARM},
        },
        {  # drugs: the pallet is shipped, with a temperature reading
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": "2025-03-03T15:00:00Z",
            "eventTimeZoneOffset": "-05:00",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "epcList": ["https://id.gs1.org/00/095212341234567891"],
            "bizTransactionList": [
                {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000013:PO-778"},
                {"type": "urn:epcglobal:cbv:btt:desadv", "bizTransaction": "https://edi.example/desadv/4711"},
            ],
            "sourceList": [
                {"type": "owning_party", "source": "urn:epc:id:pgln:9521234.00001"},
                {"type": "location", "source": FARM},
            ],
            "destinationList": [
                {
                    "type": "https://ref.gs1.org/cbv/SDT-owning_party",
                    "destination": "https://id.gs1.org/417/9521234000020",
                },
                {"type": "possessing_party", "destination": "https://carrier.example/parties/42"},
            ],
            "sensorElementList": [
                {
                    "sensorMetadata": {"time": "2025-03-03T14:59:00Z", "deviceID": "urn:epc:id:giai:9521234.LOGGER-1"},
                    "sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}],
                }
            ],
        },
        {  # cross-border: the export declaration is linked to the pallet
            "type": "TransactionEvent",
            "action": "ADD",
            "eventTime": "2025-03-04T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "bizStep": "departing",
            "disposition": "in_transit",
            "epcList": [PALLET],
            "bizTransactionList": [
                {
                    "type": BTT_CUSTOMS_DECLARATION,
                    "bizTransaction": "https://customs.example/declarations/EX-2025-000123",
                },
                {"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:9521234000013:INV-9"},
            ],
            "bizLocation": {"id": "urn:epc:id:sgln:9521234.00002.GATE-4"},
            "certificationInfo": "https://aeo.example/certificates/CN-AEO-0042",
        },
        {  # cross-border: a data logger is associated with the pallet
            "type": "AssociationEvent",
            "action": "ADD",
            "eventTime": "2025-03-04T07:30:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "bizStep": "assembling",
            "parentID": "urn:epc:id:giai:9521234.LOGGER-1",
            "childEPCs": [PALLET],
        },
        {  # hospital: a pack is dispensed
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": "2025-04-01T11:20:00+02:00",
            "eventTimeZoneOffset": "+02:00",
            "eventID": "ni:///sha-256;a7ab7b5bb2d7eaaa2a2a1c81e6b77e25e3c03dd4a2fbd6b1b0e8b54a0f3fbd4f?ver=CBV2.0",
            "bizStep": "dispensing",
            "disposition": "dispensed",
            "persistentDisposition": {"set": ["https://ref.gs1.org/cbv/Disp-completeness_verified"]},
            "epcList": ["https://id.gs1.org/01/09521234543213/21/PK001?17=270131"],
            "readPoint": {"id": "https://hospital.example/dl/414/9521234000020"},
        },
    ]
    return {
        "@context": [EPCIS_CONTEXT, {"example": "https://example.com/epcis/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-04-01T12:00:00Z",
        "epcisBody": {"eventList": events},
    }


# --- the valid document --------------------------------------------------------------


def test_valid_document_with_every_event_type_passes() -> None:
    doc = valid_document()
    events = validate_document(doc)
    assert [event["type"] for event in events] == [event["type"] for event in doc["epcisBody"]["eventList"]]
    assert {event["type"] for event in events} == {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }


def test_cbv_values_are_normalised_to_the_short_form_in_a_copy() -> None:
    doc = valid_document()
    original = copy.deepcopy(doc)
    events = validate_document(doc)
    assert doc == original
    assert events[JUICING]["bizStep"] == "commissioning"
    assert (events[PACKING]["bizStep"], events[PACKING]["disposition"]) == ("packing", "in_progress")
    assert [t["type"] for t in events[SHIPPING]["bizTransactionList"]] == ["po", "desadv"]
    assert events[SHIPPING]["destinationList"][0]["type"] == "owning_party"
    assert events[DISPENSING]["persistentDisposition"] == {"set": ["completeness_verified"]}
    assert events[CUSTOMS]["bizTransactionList"][0]["type"] == BTT_CUSTOMS_DECLARATION


def test_times_identifiers_and_extensions_are_kept_as_given() -> None:
    doc = valid_document()
    events = validate_document(doc)
    given = doc["epcisBody"]["eventList"]
    assert events[JUICING]["eventTime"] == "2025-03-02T09:15:30.250+08:00"
    assert events[PACKING]["childEPCs"] == given[PACKING]["childEPCs"]
    assert events[HARVEST]["example:harvestCrew"] == {"lead": "W. Chen", "size": 12}
    assert events[HARVEST]["ilmd"]["example:orchardBlock"] == "B7"


def test_aggregation_delete_may_omit_parent_and_children() -> None:
    doc = valid_document()
    packing = doc["epcisBody"]["eventList"][PACKING]
    packing["action"] = "DELETE"
    del packing["parentID"]
    packing["childEPCs"] = []
    assert validate_document(doc)[PACKING]["action"] == "DELETE"


def test_sensor_only_object_event_is_accepted() -> None:
    doc = valid_document()
    del doc["epcisBody"]["eventList"][SHIPPING]["epcList"]
    validate_document(doc)


def test_nesting_of_exactly_the_limit_is_accepted() -> None:
    doc = valid_document()
    doc["epcisBody"]["eventList"][HARVEST]["example:deep"] = _nest(15)  # the event plus 15 objects: 16 levels
    validate_document(doc)


def test_exactly_the_event_limit_is_accepted() -> None:
    doc = valid_document()
    doc["epcisBody"]["eventList"] = [doc["epcisBody"]["eventList"][LOGGER]] * MAX_EVENTS_PER_DOCUMENT
    assert len(validate_document(doc)) == MAX_EVENTS_PER_DOCUMENT


# --- one mutation at a time ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Mutation:
    """Set a dotted path inside the event (``quantityList.0.quantity``)."""

    def mutate(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = event
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = event
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[int(last) if isinstance(target, list) else last]

    return mutate


def _all(*mutations: Mutation) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(event)

    return mutate


def _nest(levels: int) -> dict[str, Any]:
    """``levels`` objects nested in one another."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


BAD_GTIN_PACK = "https://id.gs1.org/01/09521234543210/21/PK002"

MUTATIONS: list[tuple[str, int, Mutation, str, str]] = [
    # (id, event index, mutation, field named, fragment of the reason)
    ("unknown-type", HARVEST, _set("type", "ObjectEvnt"), "type", "must be one of ObjectEvent"),
    ("missing-action", HARVEST, _delete("action"), "action", "must be one of ADD, OBSERVE, DELETE; missing"),
    ("action-on-transformation", JUICING, _set("action", "ADD"), "action", "a TransformationEvent has no action"),
    ("lower-case-action", SHIPPING, _set("action", "observe"), "action", "got 'observe'"),
    ("missing-event-time", LOGGER, _delete("eventTime"), "eventTime", "missing"),
    ("event-time-without-zone", HARVEST, _set("eventTime", "2025-03-01T06:00:00"), "eventTime", "has no time zone"),
    ("event-time-not-a-date", HARVEST, _set("eventTime", "2025-02-30T06:00:00Z"), "eventTime", "not a real date"),
    ("event-time-not-iso", CUSTOMS, _set("eventTime", "04/03/2025 08:00"), "eventTime", "is not an ISO 8601 date-time"),
    ("missing-zone-offset", HARVEST, _delete("eventTimeZoneOffset"), "eventTimeZoneOffset", "missing"),
    ("zone-offset-one-digit", HARVEST, _set("eventTimeZoneOffset", "+8:00"), "eventTimeZoneOffset", "must be ±hh:mm"),
    ("zone-offset-beyond-14", PACKING, _set("eventTimeZoneOffset", "+14:30"), "eventTimeZoneOffset", "between -14:00"),
    ("bad-record-time", LOGGER, _set("recordTime", "2025-03-04"), "recordTime", "is not an ISO 8601 date-time"),
    (
        "child-gtin-check-digit",
        PACKING,
        _set("childEPCs.1", BAD_GTIN_PACK),
        "childEPCs[1]",
        "GTIN 09521234543210 has check digit 0, expected 3",
    ),
    (
        "sscc-wrong-length",
        SHIPPING,
        _set("epcList.0", "urn:epc:id:sscc:9521234.012345678"),
        "epcList[0]",
        "company prefix and serial reference together must be 17 digits, got 7 + 9 = 16",
    ),
    (
        "unknown-epc-scheme",
        CUSTOMS,
        _set("epcList", [PALLET, "urn:epc:id:gid:95100000.12345.400"]),
        "epcList[1]",
        "unknown or unsupported EPC scheme 'urn:epc:id:gid'",
    ),
    ("class-in-epc-list", SHIPPING, _set("epcList.0", APPLE_LOT), "epcList[0]", "identifies a class of objects"),
    (
        "expiry-not-a-date",
        DISPENSING,
        _set("epcList.0", "https://id.gs1.org/01/09521234543213/21/PK001?17=271332"),
        "epcList[0]",
        "(17) expiry date '271332' is not a valid YYMMDD date",
    ),
    (
        "identifier-too-long",
        SHIPPING,
        _set("epcList.0", "urn:epc:id:giai:9521234." + "A" * 600),
        "epcList[0]",
        "is 624 characters long, the limit is 512",
    ),
    (
        "bad-parent",
        PACKING,
        _set("parentID", "urn:epc:id:sscc:9521234.01234567890"),
        "parentID",
        "must be 17 digits, got 7 + 11 = 18",
    ),
    ("aggregation-add-without-parent", PACKING, _delete("parentID"), "parentID", "missing"),
    ("association-without-parent", LOGGER, _delete("parentID"), "parentID", "missing"),
    ("aggregation-add-without-children", PACKING, _set("childEPCs", []), "childEPCs", "at least one child"),
    (
        "instance-as-epc-class",
        HARVEST,
        _set("quantityList.0.epcClass", "urn:epc:id:sgtin:9521234.054321.PK001"),
        "quantityList[0].epcClass",
        "identifies a single object",
    ),
    ("missing-epc-class", HARVEST, _delete("quantityList.0.epcClass"), "quantityList[0].epcClass", "missing"),
    (
        "quantity-as-string",
        HARVEST,
        _set("quantityList.0.quantity", "1200"),
        "quantityList[0].quantity",
        "must be a number",
    ),
    (
        "negative-quantity",
        JUICING,
        _set("inputQuantityList.0.quantity", -1),
        "inputQuantityList[0].quantity",
        "negative",
    ),
    (
        "fractional-count",
        JUICING,
        _set("outputQuantityList.0.quantity", 2400.5),
        "outputQuantityList[0].quantity",
        "without a uom the quantity is a count of items and must be whole",
    ),
    ("lower-case-uom", HARVEST, _set("quantityList.0.uom", "kg"), "quantityList[0].uom", "UN/CEFACT Rec. 20"),
    (
        "unknown-quantity-field",
        HARVEST,
        _set("quantityList.0.unit", "KGM"),
        "quantityList[0].unit",
        "is not a field here",
    ),
    ("misspelt-biz-step", HARVEST, _set("bizStep", "comissioning"), "bizStep", "did you mean 'commissioning'?"),
    (
        "unknown-term-in-cbv-namespace",
        HARVEST,
        _set("bizStep", "urn:epcglobal:cbv:bizstep:harvesting"),
        "bizStep",
        "lies in a CBV namespace but is not a CBV 2.0 bizStep",
    ),
    (
        "bizstep-given-as-disposition",
        SHIPPING,
        _set("disposition", "urn:epcglobal:cbv:bizstep:shipping"),
        "disposition",
        "is a bizStep value, not a disposition",
    ),
    (
        "misspelt-persistent-disposition",
        DISPENSING,
        _set("persistentDisposition.set.0", "recaled"),
        "persistentDisposition.set[0]",
        "did you mean 'recalled'?",
    ),
    (
        "read-point-is-a-gtin",
        HARVEST,
        _set("readPoint.id", "https://id.gs1.org/01/09521234543213"),
        "readPoint.id",
        "identifies a class of objects",
    ),
    ("read-point-is-an-sscc", HARVEST, _set("readPoint.id", PALLET), "readPoint.id", "must be an SGLN"),
    (
        "biz-location-check-digit",
        HARVEST,
        _set("bizLocation.id", "https://id.gs1.org/414/9521234000010"),
        "bizLocation.id",
        "GLN 9521234000010 has check digit 0, expected 3",
    ),
    ("read-point-without-id", JUICING, _set("readPoint", {}), "readPoint.id", "missing"),
    (
        "unknown-transaction-type",
        SHIPPING,
        _set("bizTransactionList.1.type", "urn:epcglobal:cbv:btt:invoice"),
        "bizTransactionList[1].type",
        "lies in a CBV namespace",
    ),
    (
        "misspelt-project-transaction-type",
        CUSTOMS,
        _set("bizTransactionList.0.type", "https://traceledger.dev/voc/btt/customs_decl"),
        "bizTransactionList[0].type",
        "is not a traceledger bizTransaction type term",
    ),
    (
        "transaction-without-id",
        SHIPPING,
        _delete("bizTransactionList.0.bizTransaction"),
        "bizTransactionList[0].bizTransaction",
        "missing",
    ),
    (
        "transaction-id-not-a-uri",
        SHIPPING,
        _set("bizTransactionList.0.bizTransaction", "PO-778"),
        "bizTransactionList[0].bizTransaction",
        "must be an absolute URI",
    ),
    (
        "transaction-event-without-transactions",
        CUSTOMS,
        _set("bizTransactionList", []),
        "bizTransactionList",
        "a TransactionEvent needs at least one business transaction",
    ),
    (
        "unknown-source-type",
        SHIPPING,
        _set("sourceList.0.type", "owner"),
        "sourceList[0].type",
        "'owner' is not a CBV 2.0 source/destination type",
    ),
    (
        "destination-missing",
        SHIPPING,
        _delete("destinationList.0.destination"),
        "destinationList[0].destination",
        "missing",
    ),
    (
        "extension-in-closed-source",
        SHIPPING,
        _set("sourceList.0.example:note", "x"),
        "sourceList[0].example:note",
        "is not a field here",
    ),
    (
        "source-party-gln-length",
        SHIPPING,
        _set("sourceList.0.source", "urn:epc:id:pgln:9521234.0001"),
        "sourceList[0].source",
        "company prefix and party reference together must be 12 digits, got 7 + 4 = 11",
    ),
    (
        "ilmd-expiry-not-a-date",
        HARVEST,
        _set("ilmd.cbvmda:itemExpirationDate", "2025-02-30"),
        "ilmd.cbvmda:itemExpirationDate",
        "must be a date YYYY-MM-DD",
    ),
    (
        "ilmd-best-before-format",
        JUICING,
        _set("ilmd.cbvmda:bestBeforeDate", "30/09/2025"),
        "ilmd.cbvmda:bestBeforeDate",
        "must be a date YYYY-MM-DD",
    ),
    ("ilmd-not-an-object", HARVEST, _set("ilmd", ["B7"]), "ilmd", "must be an object, got array"),
    (
        "ilmd-bare-key",
        HARVEST,
        _set("ilmd.lotNumber", "HARVEST-0301"),
        "ilmd.lotNumber",
        "ILMD keys need a namespace prefix",
    ),
    (
        "ilmd-on-observe",
        SHIPPING,
        _set("ilmd", {"cbvmda:bestBeforeDate": "2025-09-30"}),
        "ilmd",
        "only given when objects are created",
    ),
    ("ilmd-on-aggregation", PACKING, _set("ilmd", {}), "ilmd", "is not a field of an AggregationEvent"),
    ("transformation-without-input", JUICING, _delete("inputQuantityList"), "inputEPCList", "needs an input"),
    ("transformation-without-output", JUICING, _set("outputQuantityList", []), "outputEPCList", "needs an output"),
    (
        "object-event-without-objects",
        SHIPPING,
        _all(_set("epcList", []), _delete("sensorElementList")),
        "epcList",
        "an ObjectEvent needs a non-empty epcList or quantityList",
    ),
    ("epc-list-not-an-array", SHIPPING, _set("epcList", PALLET), "epcList", "must be an array, got string"),
    (
        "misspelt-standard-field",
        HARVEST,
        _set("bizstep", "shipping"),
        "bizstep",
        "is not an EPCIS field; an extension field needs a namespace prefix, e.g. 'example:bizstep'",
    ),
    ("field-of-another-event-type", HARVEST, _set("childEPCs", []), "childEPCs", "is not a field of an ObjectEvent"),
    (
        "too-deep",
        HARVEST,
        _set("example:deep", _nest(16)),
        "example:deep" + ".a" * 15,
        "nesting is deeper than 16 levels",
    ),
    (
        "sensor-time-not-iso",
        SHIPPING,
        _set("sensorElementList.0.sensorReport.0.time", "yesterday"),
        "sensorElementList[0].sensorReport[0].time",
        "is not an ISO 8601 date-time",
    ),
    (
        "sensor-element-without-report",
        SHIPPING,
        _delete("sensorElementList.0.sensorReport"),
        "sensorElementList[0].sensorReport",
        "missing",
    ),
    ("event-id-not-a-uri", DISPENSING, _set("eventID", "event 17"), "eventID", "must be an absolute URI"),
    (
        "error-declaration-without-time",
        DISPENSING,
        _set("errorDeclaration", {"reason": "did_not_occur"}),
        "errorDeclaration.declarationTime",
        "missing",
    ),
    (
        "unknown-error-reason",
        DISPENSING,
        _set("errorDeclaration", {"declarationTime": "2025-04-02T00:00:00Z", "reason": "typo"}),
        "errorDeclaration.reason",
        "'typo' is not a CBV 2.0 errorDeclaration reason",
    ),
    (
        "certification-info-not-a-uri",
        CUSTOMS,
        _set("certificationInfo", 42),
        "certificationInfo",
        "must be a URI string",
    ),
]


@pytest.mark.parametrize(
    ("index", "mutation", "field", "reason"),
    [pytest.param(index, mutation, field, reason, id=name) for name, index, mutation, field, reason in MUTATIONS],
)
def test_mutation_is_rejected_naming_event_and_field(index: int, mutation: Mutation, field: str, reason: str) -> None:
    doc = valid_document()
    mutation(doc["epcisBody"]["eventList"][index])
    with pytest.raises(InvalidEventError) as error:
        validate_document(doc)
    assert (error.value.event_index, error.value.field) == (index, field)
    assert reason in error.value.reason
    assert error.value.http_status == 400


def test_event_that_is_not_an_object_is_named_by_its_index() -> None:
    doc = valid_document()
    doc["epcisBody"]["eventList"][LOGGER] = ["not", "an", "event"]
    with pytest.raises(InvalidEventError) as error:
        validate_document(doc)
    assert (error.value.event_index, error.value.field) == (LOGGER, "$")


def test_first_problem_in_document_order_is_reported() -> None:
    doc = valid_document()
    events = doc["epcisBody"]["eventList"]
    events[SHIPPING]["epcList"][0] = BAD_GTIN_PACK
    events[PACKING]["childEPCs"][1] = BAD_GTIN_PACK
    with pytest.raises(InvalidEventError) as error:
        validate_document(doc)
    assert (error.value.event_index, error.value.field) == (PACKING, "childEPCs[1]")


def test_error_message_format() -> None:
    doc = valid_document()
    doc["epcisBody"]["eventList"][SHIPPING]["epcList"] = [PALLET, PALLET, BAD_GTIN_PACK]
    with pytest.raises(InvalidEventError) as error:
        validate_document(doc)
    assert str(error.value) == "event 3, field epcList[2]: GTIN 09521234543210 has check digit 0, expected 3"
    assert isinstance(error.value, EPCISError) and isinstance(error.value, LedgerError)


def test_single_event_errors_have_no_index() -> None:
    event = valid_document()["epcisBody"]["eventList"][HARVEST]
    event["bizStep"] = "harvesting"
    with pytest.raises(InvalidEventError) as error:
        validate_event(event)
    assert error.value.event_index is None
    assert str(error.value) == (
        "field bizStep: 'harvesting' is not a CBV 2.0 bizStep; an extension value must be an absolute URI"
    )


# --- the document envelope ---------------------------------------------------------

DOCUMENT_MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("not-an-object", lambda doc: [doc], "$", "an EPCIS document is a JSON object, got array"),
    ("query-document", lambda doc: {**doc, "type": "EPCISQueryDocument"}, "type", "must be 'EPCISDocument'"),
    ("no-type", lambda doc: {k: v for k, v in doc.items() if k != "type"}, "type", "got nothing"),
    ("no-context", lambda doc: {k: v for k, v in doc.items() if k != "@context"}, "@context", "got null"),
    (
        "foreign-context",
        lambda doc: {**doc, "@context": "https://example.com/ctx.jsonld"},
        "@context",
        "must include the EPCIS 2.0 context",
    ),
    ("schema-version", lambda doc: {**doc, "schemaVersion": "1.2"}, "schemaVersion", "must be '2.0', got '1.2'"),
    (
        "creation-date-without-zone",
        lambda doc: {**doc, "creationDate": "2025-04-01T12:00:00"},
        "creationDate",
        "has no time zone",
    ),
    ("no-body", lambda doc: {k: v for k, v in doc.items() if k != "epcisBody"}, "epcisBody", "got null"),
    (
        "event-list-not-an-array",
        lambda doc: {**doc, "epcisBody": {"eventList": {}}},
        "epcisBody.eventList",
        "must be an array of events, got object",
    ),
    ("event-list-empty", lambda doc: {**doc, "epcisBody": {"eventList": []}}, "epcisBody.eventList", "is empty"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [pytest.param(mutate, field, reason, id=name) for name, mutate, field, reason in DOCUMENT_MUTATIONS],
)
def test_document_mutation_is_rejected(mutate: Callable[[dict[str, Any]], object], field: str, reason: str) -> None:
    with pytest.raises(InvalidDocumentError) as error:
        validate_document(mutate(valid_document()))
    assert error.value.field == field
    assert reason in error.value.reason
    assert error.value.http_status == 400
    assert str(error.value) == f"EPCIS document, field {field}: {error.value.reason}"


def test_too_many_events_is_413() -> None:
    doc = valid_document()
    doc["epcisBody"]["eventList"] = [doc["epcisBody"]["eventList"][LOGGER]] * (MAX_EVENTS_PER_DOCUMENT + 1)
    with pytest.raises(DocumentTooLargeError) as error:
        validate_document(doc)
    assert error.value.http_status == 413
    assert error.value.field == "epcisBody.eventList"
    assert str(error.value) == (
        "EPCIS document, field epcisBody.eventList: 10001 events, the limit is 10000 per document; "
        "split the events into several captures"
    )


# --- CBV vocabularies --------------------------------------------------------------

# CBV 2.0, sections 7.1-7.4, typed out independently of ledger.epcis.vocab.
CBV_BIZ_STEPS = [
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
]
CBV_DISPOSITIONS = [
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
]
CBV_BIZ_TRANSACTION_TYPES = [
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
]


@pytest.mark.parametrize(
    ("vocabulary", "terms", "urn", "web"),
    [
        (BIZ_STEP, CBV_BIZ_STEPS, "urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        (DISPOSITION, CBV_DISPOSITIONS, "urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        (BIZ_TRANSACTION_TYPE, CBV_BIZ_TRANSACTION_TYPES, "urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        (
            SOURCE_DESTINATION_TYPE,
            ["owning_party", "possessing_party", "location"],
            "urn:epcglobal:cbv:sdt:",
            "https://ref.gs1.org/cbv/SDT-",
        ),
    ],
    ids=["bizStep", "disposition", "btt", "sdt"],
)
def test_every_cbv_term_normalises_from_all_three_spellings(vocabulary, terms, urn, web) -> None:
    assert vocabulary.terms == frozenset(terms)
    for term in terms:
        for spelling in (term, urn + term, web + term):
            assert classify(vocabulary, spelling) == (TermKind.CBV, term)


@pytest.mark.parametrize(
    "value",
    ["https://example.com/steps/fumigating", "urn:example:step:fumigating", "example:fumigating"],
)
def test_extension_uris_are_kept_as_given(value: str) -> None:
    assert classify(BIZ_STEP, value) == (TermKind.EXTENSION, value)
    assert is_extension(BIZ_STEP, value) and not is_cbv_term(BIZ_STEP, value)


def test_project_customs_declaration_type_is_a_known_extension() -> None:
    assert classify(BIZ_TRANSACTION_TYPE, BTT_CUSTOMS_DECLARATION) == (TermKind.EXTENSION, BTT_CUSTOMS_DECLARATION)
    with pytest.raises(VocabularyError, match="is a bizTransaction type value, not a bizStep"):
        normalize(BIZ_STEP, BTT_CUSTOMS_DECLARATION)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "Shipping",
            "'Shipping' is not a CBV 2.0 bizStep (did you mean 'shipping'?); an extension value must be an absolute URI",
        ),
        ("fumigating", "'fumigating' is not a CBV 2.0 bizStep; an extension value must be an absolute URI"),
        (
            "https://ref.gs1.org/cbv/BizStep-shiping",
            (
                "https://ref.gs1.org/cbv/BizStep-shiping lies in a CBV namespace but "
                "is not a CBV 2.0 bizStep (did you mean 'shipping'?); the URN form is urn:epcglobal:cbv:bizstep:<term> and the "
                "Web URI form https://ref.gs1.org/cbv/BizStep-<term>"
            ),
        ),
        (
            "https://ns.gs1.org/cbv/BizStep-shipping",
            (
                "https://ns.gs1.org/cbv/BizStep-shipping lies in a CBV namespace but "
                "is not a CBV 2.0 bizStep (did you mean 'shipping'?); the URN form is urn:epcglobal:cbv:bizstep:<term> and the "
                "Web URI form https://ref.gs1.org/cbv/BizStep-<term>"
            ),
        ),
        ("urn:epcglobal:cbv:disp:recalled", "urn:epcglobal:cbv:disp:recalled is a disposition value, not a bizStep"),
        ("https://", "'https://' is not a CBV 2.0 bizStep; an extension value must be an absolute URI"),
        ("has space:x y", "'has space:x y' is not a CBV 2.0 bizStep; an extension value must be an absolute URI"),
    ],
)
def test_unknown_values_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(VocabularyError) as error:
        normalize(BIZ_STEP, value)
    assert error.value.reason == reason
    assert not is_cbv_term(BIZ_STEP, value) and not is_extension(BIZ_STEP, value)


def test_non_string_vocabulary_value_is_refused() -> None:
    with pytest.raises(VocabularyError, match="must be a string, got number"):
        normalize(DISPOSITION, 3)
