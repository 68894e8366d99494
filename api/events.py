"""EPCIS 2.0 event query (REST binding shape): ``GET /events`` and ``GET /events/{id}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import SessionDep
from ledger.capture.query import EventQuery, get_event, query_document, query_events

router = APIRouter(tags=["query"])


def _values(raw: list[str] | None) -> list[str]:
    """Repeated parameters and '|'-separated values both work (identifiers may hold commas)."""
    return [v for item in raw or [] for v in item.split("|") if v]


@router.get("/events", summary="Simple event query, paginated (perPage, nextPageToken)")
def list_events(
    request: Request,
    session: SessionDep,
    EQ_bizStep: Annotated[list[str] | None, Query(description="bizStep, short or URI form")] = None,
    MATCH_epc: Annotated[list[str] | None, Query(description="EPC in epcList/childEPCs (URN or Digital Link; a product class matches its items)")] = None,
    MATCH_anyEPC: Annotated[list[str] | None, Query(description="EPC in any identifier field")] = None,
    GE_eventTime: Annotated[datetime | None, Query(description="eventTime >= (ISO 8601 with zone)")] = None,
    LT_eventTime: Annotated[datetime | None, Query(description="eventTime < (ISO 8601 with zone)")] = None,
    EQ_bizLocation: Annotated[list[str] | None, Query(description="bizLocation id")] = None,
    perPage: Annotated[int, Query(ge=1, le=1000)] = 30,
    nextPageToken: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    from ledger.capture.query import QueryParameterError

    for name, value in (("GE_eventTime", GE_eventTime), ("LT_eventTime", LT_eventTime)):
        if value is not None and value.tzinfo is None:
            raise QueryParameterError(f"{name}: needs a time zone (Z or ±hh:mm)")
    events, token = query_events(session, EventQuery(
        biz_steps=_values(EQ_bizStep), match_epc=_values(MATCH_epc), match_any_epc=_values(MATCH_anyEPC),
        ge_event_time=GE_eventTime, lt_event_time=LT_eventTime, biz_locations=_values(EQ_bizLocation),
        per_page=perPage, next_page_token=nextPageToken,
    ))
    body: dict[str, Any] = query_document(events)
    headers = {}
    if token is not None:
        body["nextPageToken"] = token
        headers["Link"] = f'<{request.url.include_query_params(nextPageToken=token)}>; rel="next"'
    return JSONResponse(body, headers=headers)


@router.get("/events/{event_id:path}", summary="One event by its event hash ID (URL-encoded)")
def one_event(event_id: str, request: Request, session: SessionDep) -> dict[str, Any]:
    # "ni:///sha-256;…?ver=CBV2.0": a client that did not encode the '?' sends ver as a query parameter.
    if "?" not in event_id and "ver" in request.query_params:
        event_id = f"{event_id}?ver={request.query_params['ver']}"
    return get_event(session, event_id)
