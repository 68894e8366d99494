"""Validation of an EPCIS 2.0 capture document (JSON / JSON-LD binding).

:func:`validate_document` checks a decoded ``EPCISDocument`` and returns its
events, each a normalised copy; it raises on the FIRST problem, naming the
event (0-based index in ``epcisBody.eventList``) and the JSON path of the
field, so a submitter fixes one thing at a time without guessing.

Strict where the standard is strict (required fields, CBV vocabularies, GS1
keys with check digits, time stamps with a zone, event-type rules), lenient
on extensions: any key that is an absolute URI or compact IRI
(``example:temp``) is carried through untouched. A bare key the standard
does not define for that event type is rejected: the EPCIS JSON-LD context
gives it no meaning, so the event hash would silently ignore it and its
value could later be changed without changing the event's hash ID. The same
goes for ILMD keys, which must be namespaced (``cbvmda:itemExpirationDate``).

Normalisation (on the copy only; the input is never modified): CBV values of
``bizStep``, ``disposition``, ``persistentDisposition``, bizTransaction and
source/destination types and error reasons become their short form
(``shipping``). Everything else, including ``eventTime`` and identifiers, is
kept as given. A signature over the submitted document must therefore be
checked against the submitted document, not these copies.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

from ledger.epcis.errors import (
    DocumentTooLargeError,
    InvalidDocumentError,
    InvalidEventError,
    InvalidIdentifierError,
    VocabularyError,
    json_type_name,
)
from ledger.epcis.identifiers import MAX_IDENTIFIER_LENGTH, Expectation, looks_like_digital_link, parse_epc
from ledger.epcis.vocab import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SOURCE_DESTINATION_TYPE,
    Vocabulary,
    is_absolute_uri,
    normalize,
)

MAX_EVENTS_PER_DOCUMENT = 10_000
MAX_EVENT_DEPTH = 16
SCHEMA_VERSION = "2.0"
EPCIS_CONTEXTS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    }
)

OBJECT_EVENT = "ObjectEvent"
AGGREGATION_EVENT = "AggregationEvent"
TRANSACTION_EVENT = "TransactionEvent"
TRANSFORMATION_EVENT = "TransformationEvent"
ASSOCIATION_EVENT = "AssociationEvent"
EVENT_TYPES = (OBJECT_EVENT, AGGREGATION_EVENT, TRANSACTION_EVENT, TRANSFORMATION_EVENT, ASSOCIATION_EVENT)
ACTIONS = ("ADD", "OBSERVE", "DELETE")

_COMMON_FIELDS = frozenset(
    {
        "@context",
        "type",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "eventID",
        "errorDeclaration",
        "certificationInfo",
        "readPoint",
        "bizLocation",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
    }
)
_FIELDS_BY_TYPE = {
    OBJECT_EVENT: _COMMON_FIELDS | {"action", "epcList", "quantityList", "ilmd"},
    AGGREGATION_EVENT: _COMMON_FIELDS | {"action", "parentID", "childEPCs", "childQuantityList"},
    TRANSACTION_EVENT: _COMMON_FIELDS | {"action", "parentID", "epcList", "quantityList"},
    TRANSFORMATION_EVENT: _COMMON_FIELDS
    | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"},
    ASSOCIATION_EVENT: _COMMON_FIELDS | {"action", "parentID", "childEPCs", "childQuantityList"},
}
_STANDARD_FIELDS = frozenset().union(*_FIELDS_BY_TYPE.values())
_EPC_LIST_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LIST_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))")
_TIME_ZONE_OFFSET = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_UOM = re.compile(r"[A-Z0-9]{2,3}")
_CBV_MASTER_DATA_PREFIXES = ("cbvmda:", "urn:epcglobal:cbv:mda:", "urn:epcglobal:cbv:mda#")
_ILMD_DATE_ATTRIBUTES = ("itemExpirationDate", "bestBeforeDate")


def validate_document(doc: object) -> list[dict[str, Any]]:
    """Check a decoded EPCIS 2.0 ``EPCISDocument`` and return its events, normalised.

    Raises :class:`InvalidDocumentError` for an unusable envelope,
    :class:`DocumentTooLargeError` (413) beyond 10,000 events, and
    :class:`InvalidEventError` for the first invalid event field.
    """
    if not isinstance(doc, dict):
        raise InvalidDocumentError("$", f"an EPCIS document is a JSON object, got {json_type_name(doc)}")
    if doc.get("type") != "EPCISDocument":
        raise InvalidDocumentError(
            "type", f"must be 'EPCISDocument', got {_shown(doc.get('type'))}; capture takes an EPCISDocument"
        )
    _check_document_context(doc.get("@context"))
    if doc.get("schemaVersion") != SCHEMA_VERSION:
        raise InvalidDocumentError(
            "schemaVersion", f"must be '{SCHEMA_VERSION}', got {_shown(doc.get('schemaVersion'))}"
        )
    problem = _date_time_problem(doc.get("creationDate"))
    if problem:
        raise InvalidDocumentError("creationDate", problem)
    body = doc.get("epcisBody")
    if not isinstance(body, dict):
        raise InvalidDocumentError("epcisBody", f"must be an object holding eventList, got {json_type_name(body)}")
    events = body.get("eventList")
    if not isinstance(events, list):
        raise InvalidDocumentError("epcisBody.eventList", f"must be an array of events, got {json_type_name(events)}")
    if not events:
        raise InvalidDocumentError("epcisBody.eventList", "is empty; a capture needs at least one event")
    if len(events) > MAX_EVENTS_PER_DOCUMENT:
        raise DocumentTooLargeError(
            "epcisBody.eventList",
            f"{len(events)} events, the limit is {MAX_EVENTS_PER_DOCUMENT} per document; "
            "split the events into several captures",
        )
    return [validate_event(event, index) for index, event in enumerate(events)]


def validate_event(event: object, index: int | None = None) -> dict[str, Any]:
    """Check one EPCIS 2.0 event and return a normalised copy.

    ``index`` is the event's position in its document, used in errors.
    Raises :class:`InvalidEventError`.
    """
    return _EventValidator(event, index).run()


def _check_document_context(context: object) -> None:
    entries = context if isinstance(context, list) else [context]
    if context is None or not all(isinstance(entry, str | dict) for entry in entries):
        raise InvalidDocumentError(
            "@context", f"must be a URI, an object or an array of them, got {json_type_name(context)}"
        )
    if not EPCIS_CONTEXTS.intersection(entry for entry in entries if isinstance(entry, str)):
        raise InvalidDocumentError(
            "@context",
            "must include the EPCIS 2.0 context https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld; "
            "without it the event fields have no meaning",
        )


class _EventValidator:
    def __init__(self, event: object, index: int | None) -> None:
        self.event = event
        self.index = index

    def fail(self, field: str, reason: str) -> InvalidEventError:
        return InvalidEventError(self.index, field, reason)

    def run(self) -> dict[str, Any]:
        if not isinstance(self.event, dict):
            raise self.fail("$", f"an event is a JSON object, got {json_type_name(self.event)}")
        try:
            self.out: dict[str, Any] = _copy_json(self.event, 1)
        except _TooDeep:
            too_deep = _first_path_deeper_than(self.event, MAX_EVENT_DEPTH) or "$"
            raise self.fail(too_deep, f"nesting is deeper than {MAX_EVENT_DEPTH} levels") from None
        event = self.out
        event_type = event.get("type")
        if event_type not in EVENT_TYPES:
            raise self.fail("type", f"must be one of {', '.join(EVENT_TYPES)}, got {_shown(event_type)}")
        self.type: str = event_type
        self._check_action()
        self._check_field_names()
        self._check_times()
        self._check_what()
        self._check_why()
        self._check_where()
        self._check_transactions_and_parties()
        self._check_ilmd()
        self._check_sensors()
        return event

    # --- structure -----------------------------------------------------------

    def _check_field_names(self) -> None:
        allowed = _FIELDS_BY_TYPE[self.type]
        for key in self.out:
            if key in allowed or _is_extension_key(key):
                continue
            if key in _STANDARD_FIELDS:
                raise self.fail(key, f"is not a field of {_article(self.type)} {self.type}")
            raise self.fail(
                key, f"is not an EPCIS field; an extension field needs a namespace prefix, e.g. 'example:{key}'"
            )

    def _check_action(self) -> None:
        action = self.out.get("action")
        if self.type == TRANSFORMATION_EVENT:
            if "action" in self.out:
                raise self.fail("action", "a TransformationEvent has no action")
            return
        if action not in ACTIONS:
            got = "missing" if "action" not in self.out else f"got {_shown(action)}"
            raise self.fail("action", f"must be one of ADD, OBSERVE, DELETE; {got}")

    def _check_times(self) -> None:
        event = self.out
        if "eventTime" not in event:
            raise self.fail("eventTime", "missing; an event says when it happened (ISO 8601 date-time with time zone)")
        problem = _date_time_problem(event["eventTime"])
        if problem:
            raise self.fail("eventTime", problem)
        offset = event.get("eventTimeZoneOffset")
        if "eventTimeZoneOffset" not in event:
            raise self.fail(
                "eventTimeZoneOffset", "missing; give the local offset where the event happened, e.g. +08:00"
            )
        if not isinstance(offset, str) or not _TIME_ZONE_OFFSET.fullmatch(offset):
            raise self.fail("eventTimeZoneOffset", f"must be ±hh:mm between -14:00 and +14:00, got {_shown(offset)}")
        if "recordTime" in event:
            problem = _date_time_problem(event["recordTime"])
            if problem:
                raise self.fail("recordTime", problem)
        if "eventID" in event:
            self._uri("eventID", event["eventID"])
        if "certificationInfo" in event:
            value = event["certificationInfo"]
            if isinstance(value, list):
                for position, item in enumerate(value):
                    self._uri(f"certificationInfo[{position}]", item)
            else:
                self._uri("certificationInfo", value)
        if "errorDeclaration" in event:
            self._check_error_declaration(event["errorDeclaration"])

    def _check_error_declaration(self, declaration: object) -> None:
        field = "errorDeclaration"
        declaration = self._object(field, declaration, {"declarationTime", "reason", "correctiveEventIDs"})
        if "declarationTime" not in declaration:
            raise self.fail(f"{field}.declarationTime", "missing; say when the error was declared")
        problem = _date_time_problem(declaration["declarationTime"])
        if problem:
            raise self.fail(f"{field}.declarationTime", problem)
        if "reason" in declaration:
            declaration["reason"] = self._vocabulary(f"{field}.reason", ERROR_REASON, declaration["reason"])
        if "correctiveEventIDs" in declaration:
            for position, event_id in enumerate(
                self._array(f"{field}.correctiveEventIDs", declaration["correctiveEventIDs"])
            ):
                self._uri(f"{field}.correctiveEventIDs[{position}]", event_id)

    # --- what ----------------------------------------------------------------

    def _check_what(self) -> None:
        event = self.out
        for field in _EPC_LIST_FIELDS:
            if field in event:
                for position, epc in enumerate(self._array(field, event[field])):
                    self._identifier(f"{field}[{position}]", epc, "instance")
        if "parentID" in event:
            self._identifier("parentID", event["parentID"], "instance")
        for field in _QUANTITY_LIST_FIELDS:
            if field in event:
                for position, element in enumerate(self._array(field, event[field])):
                    self._check_quantity(f"{field}[{position}]", element)
        if "transformationID" in event:
            self._uri("transformationID", event["transformationID"])
        self._check_what_is_complete()

    def _check_quantity(self, field: str, element: object) -> None:
        element = self._object(field, element, {"epcClass", "quantity", "uom"})
        if "epcClass" not in element:
            raise self.fail(f"{field}.epcClass", "missing; a quantity element names its class of objects")
        self._identifier(f"{field}.epcClass", element["epcClass"], "class")
        if "quantity" not in element:
            raise self.fail(f"{field}.quantity", "missing; a quantity element says how much")
        quantity = element["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not math.isfinite(quantity):
            raise self.fail(f"{field}.quantity", f"must be a number, got {_shown(quantity)}")
        if quantity < 0:
            raise self.fail(f"{field}.quantity", f"must not be negative, got {quantity}")
        if "uom" in element:
            uom = element["uom"]
            if not isinstance(uom, str) or not _UOM.fullmatch(uom):
                raise self.fail(
                    f"{field}.uom",
                    f"must be a UN/CEFACT Rec. 20 unit code (2-3 capitals or digits, e.g. KGM), got {_shown(uom)}",
                )
        elif quantity != int(quantity):
            raise self.fail(
                f"{field}.quantity", f"without a uom the quantity is a count of items and must be whole, got {quantity}"
            )

    def _check_what_is_complete(self) -> None:
        event = self.out
        if self.type == OBJECT_EVENT:
            if not (event.get("epcList") or event.get("quantityList") or event.get("sensorElementList")):
                raise self.fail(
                    "epcList",
                    "an ObjectEvent needs a non-empty epcList or quantityList (or, for sensor data, a sensorElementList)",
                )
        elif self.type in (AGGREGATION_EVENT, ASSOCIATION_EVENT):
            # Only an aggregation DELETE may omit the parent ("these children left whatever held them").
            parent_optional = self.type == AGGREGATION_EVENT and event["action"] == "DELETE"
            if "parentID" not in event and not parent_optional:
                raise self.fail(
                    "parentID",
                    f"missing; {_article(self.type)} {self.type} with action {event['action']} names its parent",
                )
            if event["action"] == "ADD" and not (event.get("childEPCs") or event.get("childQuantityList")):
                raise self.fail("childEPCs", "an ADD needs at least one child in childEPCs or childQuantityList")
        elif self.type == TRANSACTION_EVENT:
            if not event.get("bizTransactionList"):
                raise self.fail("bizTransactionList", "a TransactionEvent needs at least one business transaction")
        elif self.type == TRANSFORMATION_EVENT:
            if not (event.get("inputEPCList") or event.get("inputQuantityList")):
                raise self.fail(
                    "inputEPCList",
                    "a TransformationEvent needs an input: a non-empty inputEPCList or inputQuantityList",
                )
            if not (event.get("outputEPCList") or event.get("outputQuantityList")):
                raise self.fail(
                    "outputEPCList",
                    "a TransformationEvent needs an output: a non-empty outputEPCList or outputQuantityList",
                )

    # --- why -----------------------------------------------------------------

    def _check_why(self) -> None:
        event = self.out
        if "bizStep" in event:
            event["bizStep"] = self._vocabulary("bizStep", BIZ_STEP, event["bizStep"])
        if "disposition" in event:
            event["disposition"] = self._vocabulary("disposition", DISPOSITION, event["disposition"])
        if "persistentDisposition" in event:
            field = "persistentDisposition"
            persistent = self._object(field, event[field], {"set", "unset"})
            if not persistent.get("set") and not persistent.get("unset"):
                raise self.fail(field, "needs a non-empty set or unset list of dispositions")
            for part in ("set", "unset"):
                if part in persistent:
                    values = self._array(f"{field}.{part}", persistent[part])
                    persistent[part] = [
                        self._vocabulary(f"{field}.{part}[{position}]", DISPOSITION, value)
                        for position, value in enumerate(values)
                    ]

    # --- where ---------------------------------------------------------------

    def _check_where(self) -> None:
        for field in ("readPoint", "bizLocation"):
            if field not in self.out:
                continue
            location = self._object(field, self.out[field], {"id"})
            if "id" not in location:
                raise self.fail(f"{field}.id", "missing; a location is identified by an SGLN")
            identifier = self._identifier(f"{field}.id", location["id"], "instance")
            if identifier.scheme != "sgln":
                raise self.fail(
                    f"{field}.id",
                    f"must be an SGLN (urn:epc:id:sgln:...) or a Digital Link with (414) GLN, got {_article(identifier.scheme)} {identifier.scheme.upper()}",
                )

    # --- business transactions, sources and destinations ----------------------

    def _check_transactions_and_parties(self) -> None:
        event = self.out
        if "bizTransactionList" in event:
            for position, item in enumerate(self._array("bizTransactionList", event["bizTransactionList"])):
                field = f"bizTransactionList[{position}]"
                transaction = self._object(field, item, {"bizTransaction", "type"})
                if "bizTransaction" not in transaction:
                    raise self.fail(f"{field}.bizTransaction", "missing; the transaction's identifier (a URI)")
                self._uri(f"{field}.bizTransaction", transaction["bizTransaction"])
                if "type" in transaction:
                    transaction["type"] = self._vocabulary(f"{field}.type", BIZ_TRANSACTION_TYPE, transaction["type"])
        for list_field, party_key in (("sourceList", "source"), ("destinationList", "destination")):
            if list_field not in event:
                continue
            for position, item in enumerate(self._array(list_field, event[list_field])):
                field = f"{list_field}[{position}]"
                # The standard closes these objects (no extension keys).
                entry = self._object(field, item, {"type", party_key}, extensions=False)
                for required in ("type", party_key):
                    if required not in entry:
                        raise self.fail(f"{field}.{required}", "missing")
                entry["type"] = self._vocabulary(f"{field}.type", SOURCE_DESTINATION_TYPE, entry["type"])
                party = entry[party_key]
                if isinstance(party, str) and (party.startswith("urn:epc:") or looks_like_digital_link(party)):
                    self._identifier(f"{field}.{party_key}", party, "instance")
                else:
                    self._uri(f"{field}.{party_key}", party)

    # --- ILMD and sensor data ------------------------------------------------

    def _check_ilmd(self) -> None:
        if "ilmd" not in self.out:
            return
        if self.type == OBJECT_EVENT and self.out["action"] != "ADD":
            raise self.fail("ilmd", "instance/lot master data is only given when objects are created (action ADD)")
        ilmd = self._object("ilmd", self.out["ilmd"], None)
        for key, value in ilmd.items():
            if not _is_extension_key(key):
                raise self.fail(
                    f"ilmd.{key}",
                    "ILMD keys need a namespace prefix, e.g. cbvmda:itemExpirationDate or example:harvestField",
                )
            local_name = next((key[len(p) :] for p in _CBV_MASTER_DATA_PREFIXES if key.startswith(p)), None)
            if local_name in _ILMD_DATE_ATTRIBUTES and (not isinstance(value, str) or _date_problem(value)):
                raise self.fail(f"ilmd.{key}", f"must be a date YYYY-MM-DD, got {_shown(value)}")

    def _check_sensors(self) -> None:
        if "sensorElementList" not in self.out:
            return
        for position, item in enumerate(self._array("sensorElementList", self.out["sensorElementList"])):
            field = f"sensorElementList[{position}]"
            element = self._object(field, item, {"sensorMetadata", "sensorReport"})
            if "sensorMetadata" in element:
                metadata = self._object(f"{field}.sensorMetadata", element["sensorMetadata"], None)
                self._check_sensor_times(f"{field}.sensorMetadata", metadata)
            if "sensorReport" not in element:
                raise self.fail(f"{field}.sensorReport", "missing; a sensor element holds at least one report")
            reports = self._array(f"{field}.sensorReport", element["sensorReport"])
            if not reports:
                raise self.fail(f"{field}.sensorReport", "needs at least one sensor report")
            for report_position, report in enumerate(reports):
                report_field = f"{field}.sensorReport[{report_position}]"
                self._check_sensor_times(report_field, self._object(report_field, report, None))

    def _check_sensor_times(self, field: str, values: dict[str, Any]) -> None:
        for key in ("time", "startTime", "endTime"):
            if key in values:
                problem = _date_time_problem(values[key])
                if problem:
                    raise self.fail(f"{field}.{key}", problem)

    # --- helpers ---------------------------------------------------------------

    def _array(self, field: str, value: object) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, f"must be an array, got {json_type_name(value)}")
        return value

    def _object(self, field: str, value: object, known: set[str] | None, *, extensions: bool = True) -> dict[str, Any]:
        """``value`` as an object; with ``known``, other keys must be extensions (or are refused)."""
        if not isinstance(value, dict):
            raise self.fail(field, f"must be an object, got {json_type_name(value)}")
        if known is not None:
            for key in value:
                if key in known or (extensions and _is_extension_key(key)):
                    continue
                allowed = ", ".join(sorted(known)) or "none"
                hint = "; an extension field needs a namespace prefix" if extensions else ""
                raise self.fail(f"{field}.{key}", f"is not a field here (standard fields: {allowed}){hint}")
        return value

    def _identifier(self, field: str, value: object, expect: Expectation) -> Any:
        try:
            return parse_epc(value, expect=expect)
        except InvalidIdentifierError as error:
            raise self.fail(field, error.reason) from None

    def _uri(self, field: str, value: object) -> None:
        if not isinstance(value, str):
            raise self.fail(field, f"must be a URI string, got {json_type_name(value)}")
        if len(value) > MAX_IDENTIFIER_LENGTH:
            raise self.fail(field, f"is {len(value)} characters long, the limit is {MAX_IDENTIFIER_LENGTH}")
        if not is_absolute_uri(value):
            raise self.fail(field, f"must be an absolute URI, got {_shown(value)}")

    def _vocabulary(self, field: str, vocabulary: Vocabulary, value: object) -> str:
        if isinstance(value, str) and len(value) > MAX_IDENTIFIER_LENGTH:
            raise self.fail(field, f"is {len(value)} characters long, the limit is {MAX_IDENTIFIER_LENGTH}")
        try:
            return normalize(vocabulary, value)
        except VocabularyError as error:
            raise self.fail(field, error.reason) from None


def _is_extension_key(key: str) -> bool:
    return ":" in key and is_absolute_uri(key)


class _TooDeep(Exception):
    pass


def _copy_json(value: Any, depth: int) -> Any:
    """A copy of a JSON value (dicts and lists copied, scalars shared), refusing
    containers nested deeper than MAX_EVENT_DEPTH. One pass does both, and is
    several times cheaper than ``copy.deepcopy`` on the capture hot path."""
    if isinstance(value, dict):
        if depth > MAX_EVENT_DEPTH:
            raise _TooDeep
        return {key: _copy_json(child, depth + 1) for key, child in value.items()}
    if isinstance(value, list):
        if depth > MAX_EVENT_DEPTH:
            raise _TooDeep
        return [_copy_json(child, depth + 1) for child in value]
    return value


def _first_path_deeper_than(value: object, limit: int) -> str | None:
    """JSON path of the first container nested more than ``limit`` levels deep."""
    stack: list[tuple[object, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > limit:
            return path or "$"
        children: list[tuple[object, str]] = (
            [(child, f"{path}.{key}" if path else str(key)) for key, child in node.items()]
            if isinstance(node, dict)
            else [(child, f"{path}[{position}]") for position, child in enumerate(node)]
        )
        stack.extend((child, child_path, depth + 1) for child, child_path in reversed(children))
    return None


def _date_time_problem(value: object) -> str | None:
    """Why ``value`` is not an ISO 8601 date-time with a time zone, or None."""
    if not isinstance(value, str):
        return f"must be an ISO 8601 date-time string with a time zone, got {json_type_name(value)}"
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?", value):
            return f"{value!r} has no time zone; end it with Z or ±hh:mm"
        return f"{value!r} is not an ISO 8601 date-time like 2025-03-01T08:30:00Z or 2025-03-01T16:30:00+08:00"
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        return f"{value!r} is not a real date and time ({error})"
    if match.group(8) is None:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        if int(match.group(11)) > 59 or offset > timedelta(hours=14):
            return f"{value!r} has a time zone offset outside ±14:00"
    return None


def _date_problem(value: str) -> str | None:
    match = _DATE.fullmatch(value)
    if match is None:
        return "not YYYY-MM-DD"
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as error:
        return str(error)
    return None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _shown(value: object) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."
