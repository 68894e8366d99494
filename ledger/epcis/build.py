"""Small builders for EPCIS 2.0 events, for the demo, the tests and the benches.

Identifiers are GS1 Digital Link URIs (``https://id.gs1.org/01/<gtin>/21/<serial>``),
which the validator, the resolver and the QR labels all share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ledger.gs1 import with_check_digit

DL_HOST = "https://id.gs1.org"


def gtin(body13: str) -> str:
    """GTIN-14 from its first 13 digits."""
    return with_check_digit(body13)


def gln(body12: str) -> str:
    return with_check_digit(body12)


def item(gtin14: str, serial: str) -> str:
    return f"{DL_HOST}/01/{gtin14}/21/{serial}"


def lot(gtin14: str, lot_number: str) -> str:
    return f"{DL_HOST}/01/{gtin14}/10/{lot_number}"


def sscc(body17: str) -> str:
    return f"{DL_HOST}/00/{with_check_digit(body17)}"


def place(gln13: str) -> dict[str, str]:
    return {"id": f"{DL_HOST}/414/{gln13}"}


def timestamp(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _base(
    event_type: str,
    when: datetime | None,
    biz_step: str | None,
    disposition: str | None,
    location: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    event: dict[str, Any] = {"type": event_type, "eventTime": timestamp(when), "eventTimeZoneOffset": "+00:00"}
    if biz_step:
        event["bizStep"] = biz_step
    if disposition:
        event["disposition"] = disposition
    if location:
        event["readPoint"] = place(location)
        event["bizLocation"] = place(location)
    event.update(extra)
    return event


def object_event(
    *,
    epcs: Sequence[str] = (),
    quantities: Sequence[tuple[str, float, str | None]] = (),
    action: str = "OBSERVE",
    biz_step: str | None = None,
    disposition: str | None = None,
    location: str | None = None,
    when: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = _base("ObjectEvent", when, biz_step, disposition, location, extra)
    event["action"] = action
    event["epcList"] = list(epcs)
    if quantities:
        event["quantityList"] = [_quantity(*q) for q in quantities]
    return event


def aggregation_event(
    *,
    parent: str,
    children: Sequence[str],
    action: str = "ADD",
    biz_step: str | None = "packing",
    disposition: str | None = None,
    location: str | None = None,
    when: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = _base("AggregationEvent", when, biz_step, disposition, location, extra)
    event.update({"action": action, "parentID": parent, "childEPCs": list(children)})
    return event


def transformation_event(
    *,
    inputs: Sequence[tuple[str, float, str | None]],
    outputs: Sequence[tuple[str, float, str | None]],
    biz_step: str | None = "creating_class_instance",
    location: str | None = None,
    when: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = _base("TransformationEvent", when, biz_step, None, location, extra)
    event["inputQuantityList"] = [_quantity(*q) for q in inputs]
    event["outputQuantityList"] = [_quantity(*q) for q in outputs]
    return event


def _quantity(epc_class: str, quantity: float, uom: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"epcClass": epc_class, "quantity": quantity}
    if uom:
        entry["uom"] = uom
    return entry
