"""EPCIS simple event query: the filters users need most, paginated in log order.

Events come back from their log records (the audited copy), each carrying
its event hash ID and log index.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session

from ledger.capture.models import EpcisEvent, EpcisEventEpc
from ledger.epcis.identifiers import parse_epc
from ledger.epcis.vocab import BIZ_STEP, normalize
from ledger.errors import LedgerError, NotFoundError
from ledger.records.models import Record

MAX_PER_PAGE = 1000
TRACELEDGER_CONTEXT = {"tl": "https://traceledger.dev/voc/"}

_events = EpcisEvent.__table__
_epcs = EpcisEventEpc.__table__
_records = Record.__table__


class QueryParameterError(LedgerError):
    """A query parameter is malformed; the message names it."""

    http_status = 400


@dataclass(frozen=True)
class EventQuery:
    biz_steps: Sequence[str] = ()
    match_epc: Sequence[str] = ()  # epcList and childEPCs
    match_any_epc: Sequence[str] = ()  # any identifier field
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    biz_locations: Sequence[str] = ()
    per_page: int = 30
    next_page_token: str | None = None


def _identifier_condition(values: Sequence[str], roles: Sequence[str] | None, parameter: str) -> sa.ColumnElement[bool]:
    clauses = []
    for value in values:
        try:
            identifier = parse_epc(value)
        except LedgerError as exc:
            raise QueryParameterError(f"{parameter}: {exc}") from None
        canonical = identifier.canonical
        matches = _epcs.c.epc == canonical
        if identifier.is_class and identifier.lot is None:
            matches = sa.or_(matches, _epcs.c.epc.like(canonical + "/%"))  # a product class matches its items and lots
        clauses.append(matches)
    condition = sa.or_(*clauses)
    if roles is not None:
        condition = sa.and_(condition, _epcs.c.role.in_(roles))
    return _events.c.record_index.in_(sa.select(_epcs.c.record_index).where(condition))


def _decode_token(token: str) -> int:
    # orjson, not json: its nesting limit holds where the interpreter's recursion limit (raised to 100,000
    # by py-evm) would let a deeply nested token overflow the C stack.
    try:
        after = orjson.loads(base64.urlsafe_b64decode(token.encode() + b"==="))["after"]
    except (ValueError, KeyError, TypeError):
        after = None
    if type(after) is not int or not 0 <= after < 2**63:  # a log index: SQL BIGINT
        raise QueryParameterError("nextPageToken: not a token this server issued")
    return after


def _encode_token(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def query_events(session: Session, query: EventQuery) -> tuple[list[dict[str, Any]], str | None]:
    """Events matching every filter, in log order; and the token of the next page, if any."""
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise QueryParameterError(f"perPage: must be between 1 and {MAX_PER_PAGE}")
    statement = sa.select(_events.c.hash_id, _events.c.record_index, _records.c.body).join(
        _records, _records.c.index == _events.c.record_index
    )
    if query.biz_steps:
        try:
            steps = [normalize(BIZ_STEP, step) for step in query.biz_steps]
        except LedgerError as exc:
            raise QueryParameterError(f"EQ_bizStep: {exc}") from None
        statement = statement.where(_events.c.biz_step.in_(steps))
    if query.match_epc:
        statement = statement.where(_identifier_condition(query.match_epc, ("epc", "child"), "MATCH_epc"))
    if query.match_any_epc:
        statement = statement.where(_identifier_condition(query.match_any_epc, None, "MATCH_anyEPC"))
    if query.ge_event_time is not None:
        statement = statement.where(_events.c.event_time >= query.ge_event_time.astimezone(UTC))
    if query.lt_event_time is not None:
        statement = statement.where(_events.c.event_time < query.lt_event_time.astimezone(UTC))
    if query.biz_locations:
        statement = statement.where(_events.c.biz_location.in_(list(query.biz_locations)))
    if query.next_page_token:
        statement = statement.where(_events.c.record_index > _decode_token(query.next_page_token))
    rows = session.connection().execute(statement.order_by(_events.c.record_index).limit(query.per_page + 1)).all()
    page = rows[: query.per_page]
    events = [served_event(hash_id, index, body) for hash_id, index, body in page]
    token = _encode_token(page[-1][1]) if len(rows) > query.per_page else None
    return events, token


def served_event(hash_id: str, record_index: int, record_body: str) -> dict[str, Any]:
    """The event as captured, plus its hash ID (as eventID when it had none) and log index."""
    event = dict(orjson.loads(record_body)["event"])
    event.setdefault("eventID", hash_id)
    event["tl:eventHashID"] = hash_id
    event["tl:logIndex"] = record_index
    return event


def get_event(session: Session, hash_id: str) -> dict[str, Any]:
    row = session.connection().execute(
        sa.select(_events.c.hash_id, _events.c.record_index, _records.c.body)
        .join(_records, _records.c.index == _events.c.record_index)
        .where(_events.c.hash_id == hash_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no event with hash ID {hash_id!r}")
    return served_event(*row)


def query_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", TRACELEDGER_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}},
    }
