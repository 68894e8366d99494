"""How one stored event is projected into the query index (``epcis_event``,
``epcis_event_epc``).

Capture writes these rows in the transaction that appends the event, and
``traceledger audit`` recomputes them from the log with the same functions,
so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ledger.epcis.identifiers import parse_epc

EVENT_KIND = "epcis.event"
CAPTURE_KIND = "epcis.capture"

_IDENTIFIER_FIELDS = (("epcList", "epc"), ("childEPCs", "child"), ("inputEPCList", "input"), ("outputEPCList", "output"))
_QUANTITY_FIELDS = (("quantityList", "epc"), ("childQuantityList", "child"), ("inputQuantityList", "input"), ("outputQuantityList", "output"))


def event_identifiers(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(canonical identifier, role) pairs an event names. Precondition: the event is valid."""
    found: list[tuple[str, str]] = []
    parent = event.get("parentID")
    if parent:
        found.append((parse_epc(parent).canonical, "parent"))
    for field, role in _IDENTIFIER_FIELDS:
        for epc in event.get(field) or ():
            found.append((parse_epc(epc).canonical, role))
    for field, role in _QUANTITY_FIELDS:
        for item in event.get(field) or ():
            found.append((parse_epc(item["epcClass"]).canonical, role))
    return list(dict.fromkeys(found))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _place(value: Any) -> str | None:
    return value.get("id") if isinstance(value, Mapping) else None


def event_row(
    *, hash_id: str, record_index: int, capture_id: str, signer: str, participant_id: str | None, event: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``epcis_event`` row of a stored event. Precondition: ``event`` is normalised by validation."""
    return {
        "hash_id": hash_id,
        "record_index": record_index,
        "capture_id": capture_id,
        "signer": signer,
        "participant_id": participant_id,
        "event_type": event["type"],
        "event_time": _utc(event["eventTime"]),
        "action": event.get("action"),
        "biz_step": event.get("bizStep"),
        "disposition": event.get("disposition"),
        "read_point": _place(event.get("readPoint")),
        "biz_location": _place(event.get("bizLocation")),
    }


def identifier_rows(record_index: int, identifiers: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The ``epcis_event_epc`` rows of a stored event, from :func:`event_identifiers`."""
    return [{"record_index": record_index, "epc": epc, "role": role} for epc, role in identifiers]
