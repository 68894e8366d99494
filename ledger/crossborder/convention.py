"""The cross-border event convention: field names, builders, and reading an event's claims.

An export declaration or a customs clearance is an ordinary EPCIS 2.0
ObjectEvent (or TransactionEvent) with

- a ``bizTransactionList`` entry of type
  ``https://traceledger.dev/voc/btt/customs_declaration`` whose
  ``bizTransaction`` is the declaration's identifier (an absolute URI; for a
  bare declaration number :func:`declaration_uri` makes
  ``urn:traceledger:customs-declaration:CN:<number>``);
- ``tl:trader``: the declaring trader's USCC (18 characters, GB 32100-2015);
- ``tl:claims`` (optional): the whitelist scopes the trader claims for this
  movement, by name (``["EXPEDITED_CLEARANCE"]``, see
  :data:`ledger.whitelist.model.SCOPES`);
- for a clearance, bizStep ``https://traceledger.dev/voc/bizstep/customs_clearing``
  and the customs office as ``tl:clearedBy`` (a party GLN as
  ``urn:epc:id:pgln:...`` or ``https://id.gs1.org/417/<gln>``) and/or as an
  ``owning_party``/``possessing_party`` in ``sourceList``/``destinationList``.

The ``tl`` prefix is declared in the document's ``@context``
(``{"tl": "https://traceledger.dev/voc/"}``); the full IRIs
(``https://traceledger.dev/voc/trader``...) are read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.client import epcis_document
from ledger.epcis.build import object_event
from ledger.epcis.errors import InvalidEventError, InvalidIdentifierError
from ledger.epcis.identifiers import parse_epc
from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING, BTT_CUSTOMS_DECLARATION, PROJECT_NAMESPACE
from ledger.whitelist.model import SCOPES
from ledger.whitelist.uscc import UsccError, validate_uscc

TL_PREFIX = "tl"
TL_CONTEXT = {TL_PREFIX: PROJECT_NAMESPACE}
"""The ``@context`` entry that declares the ``tl:`` prefix."""

TRADER = "tl:trader"
CLAIMS = "tl:claims"
CLEARED_BY = "tl:clearedBy"
STANDING = "tl:traderStanding"
"""Added to served events by :func:`ledger.crossborder.standing.annotate_events` (never captured)."""

_FULL = {name: PROJECT_NAMESPACE + name.split(":", 1)[1] for name in (TRADER, CLAIMS, CLEARED_BY)}

EXPORT_BIZ_STEPS = ("departing", "shipping")
"""CBV bizSteps an exporter records its declaration with (any supply-chain role may)."""

DECLARATION_URN = "urn:traceledger:customs-declaration:"


def declaration_uri(number_or_uri: str, *, country: str = "CN") -> str:
    """The bizTransaction URI of a declaration: a URI as given, a bare number as a URN."""
    text = str(number_or_uri).strip()
    if ":" in text:
        return text
    return f"{DECLARATION_URN}{country.upper()}:{text}"


def party_uri(gln13: str) -> str:
    """A party GLN (AI 417) as a GS1 Digital Link."""
    return f"https://id.gs1.org/417/{gln13}"


def crossborder_document(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """An EPCIS document whose ``@context`` declares the ``tl`` prefix."""
    document = epcis_document(events)
    document["@context"] = [*document["@context"], dict(TL_CONTEXT)]
    return document


def export_declaration(
    *,
    declaration: str,
    trader: str,
    claims: Sequence[str] = (),
    epcs: Sequence[str] = (),
    quantities: Sequence[tuple[str, float, str | None]] = (),
    biz_step: str = "departing",
    disposition: str | None = "in_transit",
    location: str | None = None,
    exporter: str | None = None,
    when: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ObjectEvent recording an export declaration by the exporter (``exporter``: its GLN)."""
    event = object_event(epcs=epcs, quantities=quantities, biz_step=biz_step, disposition=disposition,
                         location=location, when=when, **extra)
    _declare(event, declaration, trader, claims)
    if exporter:
        event["sourceList"] = [{"type": "owning_party", "source": party_uri(exporter)}]
    return event


def customs_clearance(
    *,
    declaration: str,
    trader: str,
    cleared_by: str,
    claims: Sequence[str] = (),
    epcs: Sequence[str] = (),
    quantities: Sequence[tuple[str, float, str | None]] = (),
    disposition: str | None = "in_transit",
    location: str | None = None,
    when: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ObjectEvent recording that customs (``cleared_by``: the office's GLN) cleared the declaration."""
    event = object_event(epcs=epcs, quantities=quantities, biz_step=BIZ_STEP_CUSTOMS_CLEARING,
                         disposition=disposition, location=location, when=when, **extra)
    _declare(event, declaration, trader, claims)
    event[CLEARED_BY] = party_uri(cleared_by)
    return event


def _declare(event: dict[str, Any], declaration: str, trader: str, claims: Sequence[str]) -> None:
    event["bizTransactionList"] = [*event.get("bizTransactionList", []),
                                   {"type": BTT_CUSTOMS_DECLARATION, "bizTransaction": declaration_uri(declaration)}]
    event[TRADER] = trader
    if claims:
        event[CLAIMS] = list(claims)


# -- reading an event --------------------------------------------------------------------------


@dataclass(frozen=True)
class TraderClaim:
    """What one event says about a trader: who, which scopes it claims, when."""

    index: int | None
    uscc: str
    scopes: int
    scope_names: tuple[str, ...]
    at: int  # unix seconds of eventTime (floor), the moment the claim is judged at
    event_time: str


def _field(event: Mapping[str, Any], name: str, index: int | None) -> tuple[str, Any] | None:
    """(key as spelt, value) of a ``tl:`` field given as prefixed name or full IRI."""
    found = [(key, event[key]) for key in (name, _FULL[name]) if key in event]
    if len(found) == 2 and found[0][1] != found[1][1]:
        raise InvalidEventError(index, name, f"given twice with different values ({name} and {_FULL[name]})")
    return found[0] if found else None


def mentions_trader(event: Mapping[str, Any]) -> bool:
    """Cheap test: does the event carry any cross-border field? (the capture hot path)"""
    return any(key in event for key in (TRADER, CLAIMS, CLEARED_BY, *_FULL.values()))


def event_seconds(event: Mapping[str, Any]) -> int:
    """Unix seconds (floor) of a valid event's ``eventTime``."""
    moment = datetime.fromisoformat(str(event["eventTime"]))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def read_claim(event: Mapping[str, Any], index: int | None) -> TraderClaim | None:
    """The trader and claims of a (validated) event, or None if it names no trader.

    Raises :class:`InvalidEventError` (400, naming ``event N, field tl:trader``
    or ``tl:claims[i]``) for a malformed USCC, claims that are not a list of
    known scope names, or claims without a trader.
    """
    trader = _field(event, TRADER, index)
    claims = _field(event, CLAIMS, index)
    if trader is None:
        if claims is not None:
            raise InvalidEventError(index, TRADER, f"missing; {CLAIMS} needs the trader (USCC) who claims them")
        return None
    key, value = trader
    try:
        code = validate_uscc(value, field=key)
    except UsccError as error:
        raise InvalidEventError(index, key, error.message.removeprefix(f"{key}: ")) from None
    mask, names = 0, []
    if claims is not None:
        claims_key, raw = claims
        if not isinstance(raw, list):
            raise InvalidEventError(index, claims_key, f"must be a list of scope names ({', '.join(SCOPES)})")
        for position, name in enumerate(raw):
            where = f"{claims_key}[{position}]"
            if not isinstance(name, str) or name not in SCOPES:
                hint = ""
                if isinstance(name, str) and name.strip().upper() in SCOPES:
                    hint = f" (scope names are upper case: {name.strip().upper()})"
                raise InvalidEventError(index, where, f"unknown scope {name!r}; known: {', '.join(SCOPES)}{hint}")
            if name not in names:
                names.append(name)
                mask |= SCOPES[name]
    return TraderClaim(index, code, mask, tuple(names), event_seconds(event), str(event.get("eventTime")))


def cleared_by_gln(event: Mapping[str, Any], index: int | None) -> str | None:
    """The party GLN in ``tl:clearedBy``, or None; a value that is not a party GLN is a 400."""
    found = _field(event, CLEARED_BY, index)
    if found is None:
        return None
    key, value = found
    try:
        identifier = parse_epc(value)
    except InvalidIdentifierError as error:
        raise InvalidEventError(index, key, f"must name the customs party by its GLN "
                                            f"(urn:epc:id:pgln:... or https://id.gs1.org/417/...): {error.reason}") from None
    if identifier.scheme != "pgln":
        raise InvalidEventError(index, key, f"must be a party GLN (urn:epc:id:pgln:... or https://id.gs1.org/417/...), "
                                            f"got {identifier.scheme.upper()} {value!r}")
    return identifier.key


def is_clearance(event: Mapping[str, Any]) -> bool:
    return event.get("bizStep") == BIZ_STEP_CUSTOMS_CLEARING


def declarations(event: Mapping[str, Any]) -> list[str]:
    """The customs declaration URIs an event names."""
    return [item.get("bizTransaction") for item in event.get("bizTransactionList") or ()
            if isinstance(item, Mapping) and item.get("type") == BTT_CUSTOMS_DECLARATION]
