"""GS1 Digital Link resolver and trace API.

Resolver (the URI printed in the QR code, on this host):

- ``GET /01/{gtin}``: the product: the lots and serialized items known for it;
- ``GET /01/{gtin}/10/{lot}``: a lot; ``GET /01/{gtin}/21/{serial}`` and
  ``GET /01/{gtin}/10/{lot}/21/{serial}``: a serialized item (key qualifiers
  22, 10, 21 in that order, GS1 Digital Link syntax; query attributes such
  as ``?17=YYMMDD`` are validated);
- ``GET /00/{sscc}``: a logistic unit (case, pallet), with its contents now.

Content negotiation: ``?linkType=gs1:traceability`` (or the full
``https://gs1.org/voc/traceability``) or an ``Accept`` that prefers JSON gets
the trace as JSON: every event as the event query serves it, with its log
index, its log record, and its inclusion proof against the latest anchored
checkpoint (given once, at the top; re-read at most every 0.5 s); events not
anchored yet say so and carry no proof. A browser (``Accept: text/html``) gets the consumer page. Without
either, JSON (API clients rarely ask for HTML). Other ``linkType`` values
fall back to this default, as GS1 resolvers do for a link type they lack.

Also ``GET /v1/trace/upstream/{digital link path}``,
``GET /v1/trace/downstream/{digital link path}`` (the recall impact report)
and ``GET /v1/trace/contents/{sscc path}?at={logIndex}`` (what was inside).

A malformed key is a 400 naming the problem (check digit, length,
qualifier order...); a well-formed key with no events is a 404.

On SQLite, lookups run on the event loop rather than in the threadpool
(see ``_run``); on PostgreSQL in the threadpool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.page_kit import content_language, pick_language, weighted_values
from api.pages import render_consumer_page, render_product_page
from ledger.epcis.identifiers import Identifier, parse_digital_link
from ledger.status.queries import trace_status
from ledger.status.subjects import CONTRACT_NAME as STATUS_CONTRACT
from ledger.trace.evidence import attach_proofs
from ledger.trace.queries import (
    DEFAULT_MAX_EDGES,
    DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_NODES,
    contents_at,
    downstream_trace,
    product_listing,
    upstream_trace,
)

router = APIRouter(tags=["trace"])

TRACEABILITY_LINK_TYPES = frozenset({
    "gs1:traceability",
    "https://gs1.org/voc/traceability",
    "http://gs1.org/voc/traceability",
    "https://ref.gs1.org/voc/traceability",
})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_TYPES = frozenset({"application/json", "application/ld+json"})

MaxNodes = Annotated[int, Query(alias="maxNodes", ge=1, le=100_000, description="Stop the walk after this many identifiers.")]
MaxEdges = Annotated[int, Query(alias="maxEdges", ge=1, le=1_000_000, description="Stop after this many graph edges.")]
MaxEvents = Annotated[int, Query(alias="maxEvents", ge=1, le=100_000, description="List at most this many events.")]


def _engine(request: Request) -> Engine:
    return request.app.state.ledger.engine


async def _run(request: Request, handler: Callable[..., Response], *args: Any) -> Response:
    """Run a lookup on the event loop on SQLite, in the threadpool on PostgreSQL.

    On SQLite a lookup is ~1 ms of in-process work with nothing to wait for:
    handing it to a thread only adds the hand-off and lets 32 threads fight
    for the GIL, which measured 3x worse tail latency under 32 concurrent
    clients. On PostgreSQL a lookup waits on the network ten times, so the
    threadpool lets those waits overlap.
    """
    if _engine(request).dialect.name == "sqlite":
        return handler(request, *args)
    return await run_in_threadpool(handler, request, *args)


def _requested(request: Request, prefix: str = "") -> str:
    """The path (still %-encoded, so a lot holding '/' survives) and query of the request, after ``prefix``."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    if prefix:
        path = path[path.index(prefix) + len(prefix) :] if prefix in path else path
        path = "/" + path.lstrip("/")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _prefers_html(accept: str) -> bool:
    html_q = json_q = 0.0
    for media, quality in weighted_values(accept):
        if media in _HTML_TYPES:
            html_q = max(html_q, quality)
        elif media in _JSON_TYPES or media.endswith("+json"):
            json_q = max(json_q, quality)
    return html_q > json_q


def wants_html(request: Request) -> bool:
    if request.query_params.get("linkType") in TRACEABILITY_LINK_TYPES:
        return False
    return _prefers_html(request.headers.get("accept", ""))


def _language(request: Request) -> str:
    """zh or en: ``?lang=`` wins, else the best of them in ``Accept-Language``, else English."""
    return pick_language(request.headers.get("accept-language"), request.query_params.get("lang"))


def _with_status(request: Request, connection: Any, trace: dict[str, Any]) -> dict[str, Any]:
    """Add the recalls and pack status the index mirrors from the chain (``status``; None without the contract)."""
    address = request.app.state.ledger.manifest.contracts.get(STATUS_CONTRACT)
    trace["status"] = trace_status(connection, trace, contract=address) if address else None
    return trace


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json", headers={"Vary": "Accept"})


def _attributes(identifier: Identifier) -> dict[str, str]:
    return dict(identifier.attributes)


def _resolve(request: Request) -> Response:
    identifier = parse_digital_link(_requested(request))  # InvalidIdentifierError: 400 naming the problem
    html = wants_html(request)
    with _engine(request).connect() as connection:
        if identifier.scheme == "gtin":
            listing = product_listing(connection, identifier)
            listing["requested"] = {"uri": identifier.uri, "attributes": _attributes(identifier)}
            if html:
                lang = _language(request)
                page = render_product_page(listing, lang, here=_requested(request))
                return HTMLResponse(page, headers=content_language(lang))
            return _json(listing)
        trace = _with_status(request, connection, attach_proofs(connection, upstream_trace(connection, identifier)))
    trace["requested"] = {"uri": identifier.uri, "attributes": _attributes(identifier)}
    if html:
        lang = _language(request)
        page = render_consumer_page(trace, lang, here=_requested(request))  # links keep the path and ?17=
        return HTMLResponse(page, headers=content_language(lang))
    return _json(trace)


_RESOLVER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the trace (JSON with proofs) or the consumer page (HTML)",
          "content": {"application/json": {}, "text/html": {}}},
    400: {"description": "malformed key: the message names the problem (check digit, length, qualifier order...)"},
    404: {"description": "a well-formed key with no events recorded"},
}


@router.get(
    "/01/{path:path}",
    summary="GS1 Digital Link: /01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]",
    response_class=Response,
    responses=_RESOLVER_RESPONSES,
)
async def resolve_gtin(path: str, request: Request) -> Response:
    return await _run(request, _resolve)


@router.get(
    "/00/{path:path}",
    summary="GS1 Digital Link: /00/{sscc} (a case or pallet)",
    response_class=Response,
    responses=_RESOLVER_RESPONSES,
)
async def resolve_sscc(path: str, request: Request) -> Response:
    return await _run(request, _resolve)


@router.get("/v1/trace/upstream/{path:path}", summary="Upstream trace (JSON with proofs) of a Digital Link path")
async def upstream(
    path: str,
    request: Request,
    max_nodes: MaxNodes = DEFAULT_MAX_NODES,
    max_edges: MaxEdges = DEFAULT_MAX_EDGES,
    max_events: MaxEvents = DEFAULT_MAX_EVENTS,
) -> Response:
    return await _run(request, _upstream, max_nodes, max_edges, max_events)


def _upstream(request: Request, max_nodes: int, max_edges: int, max_events: int) -> Response:
    identifier = parse_digital_link(_requested(request, "/v1/trace/upstream"))
    with _engine(request).connect() as connection:
        trace = upstream_trace(connection, identifier, max_nodes=max_nodes, max_edges=max_edges, max_events=max_events)
        return _json(_with_status(request, connection, attach_proofs(connection, trace)))


@router.get("/v1/trace/downstream/{path:path}", summary="Downstream impact (recall) report of a lot, item or container")
async def downstream(
    path: str,
    request: Request,
    max_nodes: MaxNodes = DEFAULT_MAX_NODES,
    max_edges: MaxEdges = DEFAULT_MAX_EDGES,
    max_events: MaxEvents = DEFAULT_MAX_EVENTS,
) -> Response:
    return await _run(request, _downstream, max_nodes, max_edges, max_events)


def _downstream(request: Request, max_nodes: int, max_edges: int, max_events: int) -> Response:
    identifier = parse_digital_link(_requested(request, "/v1/trace/downstream"))
    with _engine(request).connect() as connection:
        return _json(downstream_trace(
            connection, identifier, max_nodes=max_nodes, max_edges=max_edges, max_events=max_events
        ))


@router.get("/v1/trace/contents/{path:path}", summary="What a container holds now, or held at an event (?at=logIndex)")
async def contents(
    path: str,
    request: Request,
    at: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Log index of an event, e.g. the pallet's shipping.")] = None,  # SQL BIGINT
    max_nodes: MaxNodes = DEFAULT_MAX_NODES,
) -> Response:
    return await _run(request, _contents, at, max_nodes)


def _contents(request: Request, at: int | None, max_nodes: int) -> Response:
    identifier = parse_digital_link(_requested(request, "/v1/trace/contents"))
    with _engine(request).connect() as connection:
        return _json(contents_at(connection, identifier, log_index=at, max_nodes=max_nodes))
