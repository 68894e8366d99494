"""The customs trader whitelist: entries, checks and histories, answered from
chain state at a named block (``blockNumber``/``blockHash`` in every answer),
and a relay for changes signed by a customs officer (EIP-712), so an officer
needs a key and a wallet but no node: the contract checks the signature, the
deadline, the nonce and the officer's CUSTOMS role; this server only pays.

A malformed USCC is a 400 naming the bad character; an unknown trader is a
404 for the entry and the history, and ``{"allowed": false, "status":
"unknown"}`` for a check.

The trader's credential: ``/page`` (HTML, Chinese or English, read from the
chain at request time), ``/qr.png`` and ``/qr.svg`` (a QR code of the page's
absolute URL with the USCC and name under it), and ``/standing?at=`` (the
level, scopes and status the trader had at a moment, from the index's mirror
of the whitelist events, synced first when the chain answers).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import LedgerDep
from api.json_body import MAX_JSON_BODY_BYTES, BoundedJsonRoute
from api.pages_trader import (
    pick_language,
    render_bad_uscc,
    render_not_found,
    render_trader_page,
    render_unavailable,
)
from ledger.crossborder.credential import UnlistedTraderError, trader_card, uscc_problem
from ledger.crossborder.qr import qr_png, qr_svg
from ledger.crossborder.standing import trader_standing
from ledger.crossborder.sync import try_sync
from ledger.errors import LedgerError
from ledger.whitelist.errors import WhitelistInputError
from ledger.whitelist.history import decode_logs
from ledger.whitelist.model import SCOPES, parse_scopes, parse_time
from ledger.whitelist.queries import SOURCES, check_json, trader_history, trader_json, trader_name
from ledger.whitelist.service import TYPES, SignedRequest, Whitelist
from ledger.whitelist.uscc import validate_uscc

router = APIRouter(prefix="/v1/traders", tags=["whitelist"], route_class=BoundedJsonRoute)  # relayed bodies

_USCC_DOC = "Unified social credit code (GB 32100-2015), 18 characters."


@router.get("/{uscc}", summary="A trader's whitelist entry, read from the contract at the latest block",
            responses={400: {"description": "malformed USCC (names the character)"},
                       404: {"description": "the trader was never listed"}})
def get_trader(uscc: str, ledger: LedgerDep) -> dict[str, Any]:
    return trader_json(Whitelist.from_ledger(ledger), ledger.engine, uscc)


@router.get(
    "/{uscc}/check",
    summary="May the trader use these scopes at this time? The contract's verdict at the latest block",
    description=(
        "`status` is one of allowed, unknown, revoked, suspended, dishonest, not_yet_valid, expired, "
        "scope_not_held (the first that applies, in that order after allowed). The entry is the current one, "
        "judged at `at`; what the list said in the past is in the history."
    ),
    responses={400: {"description": "malformed USCC, unknown scope or unreadable time"}},
    response_model=None,  # a plain dict, serialised as is: this is the hot path
)
def check_trader(
    uscc: str,
    ledger: LedgerDep,
    scope: Annotated[list[str] | None, Query(description=f"Scope(s) needed, repeatable or comma-separated: {', '.join(SCOPES)}.")] = None,
    at: Annotated[str | None, Query(description="When: ISO 8601 or unix seconds (default: now).")] = None,
) -> dict[str, Any]:
    required = parse_scopes(scope or [])
    moment = parse_time(at, field="at") if at is not None else None
    return check_json(Whitelist.from_ledger(ledger), uscc, required, moment)


@router.get("/{uscc}/history", summary="Every change of a trader's entry, rebuilt from the contract's events",
            responses={400: {"description": "malformed USCC"}, 404: {"description": "the trader was never listed"}})
def trader_history_route(
    uscc: str,
    ledger: LedgerDep,
    source: Annotated[str, Query(description=f"{' or '.join(SOURCES)}: the index's mirror of the events "
                                            "(synced to the head first) or the node's logs.")] = "index",
) -> dict[str, Any]:
    return trader_history(Whitelist.from_ledger(ledger), ledger.engine, uscc, source=source,
                          start_block=ledger.manifest.deployed_block)


@router.get("/{uscc}/changes/typed-data", summary="The EIP-712 document an officer signs for a change of this trader")
def change_typed_data(
    uscc: str,
    ledger: LedgerDep,
    action: Annotated[str, Query(description=f"One of {', '.join(TYPES)}.", json_schema_extra={"enum": list(TYPES)})],
    officer: Annotated[str | None, Query(description="The officer's address, to fill in its next nonce.")] = None,
    valid_for: Annotated[int, Query(ge=60, le=30 * 86400, description="Seconds until the deadline.")] = 3600,
) -> dict[str, Any]:
    code = validate_uscc(uscc)
    whitelist = Whitelist.from_ledger(ledger)
    if action not in TYPES:
        raise WhitelistInputError("action", f"must be one of {', '.join(TYPES)}, got {action!r}")
    message: dict[str, Any] = {"uscc": "0x" + code.encode("ascii").hex()}
    if officer is not None:
        from web3 import Web3

        if not Web3.is_address(officer):
            raise WhitelistInputError("officer", f"{officer!r} is not an address")
        message["nonce"] = whitelist.nonce(officer)
    message["deadline"] = int(time.time()) + valid_for
    return whitelist.typed_data(action, message)


@router.post(
    "/{uscc}/changes",
    status_code=201,
    summary="Relay a change signed by a customs officer (EIP-712); the contract verifies it",
    responses={400: {"description": "malformed request (names the field)"},
               401: {"description": "forged, expired or replayed signature"},
               403: {"description": "the signer does not hold CUSTOMS"},
               409: {"description": "the entry's state does not allow the change"},
               413: {"description": f"a body over {MAX_JSON_BODY_BYTES:,} bytes"}},
)
def relay_change(uscc: str, ledger: LedgerDep, body: Annotated[dict[str, Any], Body(
        description='{"action": "SetEntry", "message": {...typed-data message...}, "officer": "0x...", '
                    '"signature": "0x..."}')]) -> dict[str, Any]:
    code = validate_uscc(uscc)
    request = SignedRequest.from_json(body)
    if request.uscc != code:
        raise WhitelistInputError("message.uscc", f"{request.uscc} differs from the trader in the path ({code})")
    whitelist = Whitelist.from_ledger(ledger)
    relayer = ledger.service_account
    receipt = whitelist.relay(request, relayer=relayer)
    [event] = decode_logs(whitelist.contract, receipt["logs"])
    return {
        "uscc": code, "change": event.kind, "version": event.version, "officer": event.officer,
        "relayer": relayer.address, "transactionHash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "blockNumber": receipt["blockNumber"], "blockHash": "0x" + bytes(receipt["blockHash"]).hex(),
    }


# -- the trader's credential: page, QR, standing -----------------------------------------------

_PAGE_HEADERS = {"Vary": "Accept-Language", "Cache-Control": "no-store"}
_HTML = {"text/html": {"schema": {"type": "string"}}}  # the page answers its errors as pages too


@router.get(
    "/{uscc}/page",
    name="trader_page",
    response_class=HTMLResponse,
    summary="The trader's credential check page (HTML, zh/en), read from the chain at request time",
    responses={400: {"description": "malformed USCC (a page naming the character)", "content": _HTML},
               404: {"description": "the trader was never listed (a page saying so)", "content": _HTML},
               503: {"description": "the chain cannot be read", "content": _HTML}},
)
def trader_page(
    uscc: str,
    ledger: LedgerDep,
    lang: Annotated[str | None, Query(description="zh or en; overrides Accept-Language.")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    language = pick_language(accept_language, lang)
    headers = {**_PAGE_HEADERS, "Content-Language": "zh-CN" if language == "zh" else "en"}
    problem = uscc_problem(uscc)
    if problem is not None:
        return HTMLResponse(render_bad_uscc(uscc, problem, language), status_code=400, headers=headers)
    code = uscc.strip().upper()
    try:
        card = trader_card(ledger, code)
    except UnlistedTraderError as error:
        return HTMLResponse(render_not_found(code, language, error.block), status_code=404, headers=headers)
    except LedgerError as error:
        return HTMLResponse(render_unavailable(error.message, language), status_code=error.http_status, headers=headers)
    return HTMLResponse(render_trader_page(card, language), headers=headers)


def _credential(uscc: str, request: Request, ledger: Any) -> tuple[str, list[str | None]]:
    """The page URL and the lines under the QR; 400 malformed, 404 never listed (read from the chain)."""
    code = validate_uscc(uscc)
    Whitelist.from_ledger(ledger).entry_at_latest(code)  # raises TraderNotFoundError: no credential for it
    return str(request.url_for("trader_page", uscc=code)), [code, trader_name(ledger.engine, code)]


_MODULE = Query(ge=2, le=40, description="Pixels per QR module.")


@router.get("/{uscc}/qr.png", summary="The trader's credential QR (PNG): the page URL, with USCC and name under it",
            response_class=Response, responses={200: {"content": {"image/png": {}}}, 400: {}, 404: {}})
def trader_qr_png(uscc: str, request: Request, ledger: LedgerDep,
                  module: Annotated[int, _MODULE] = 8) -> Response:
    url, lines = _credential(uscc, request, ledger)
    return Response(qr_png(url, lines, module=module), media_type="image/png")


@router.get("/{uscc}/qr.svg", summary="The trader's credential QR (SVG): the page URL, with USCC and name under it",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}, 400: {}, 404: {}})
def trader_qr_svg(uscc: str, request: Request, ledger: LedgerDep,
                  module: Annotated[int, _MODULE] = 8) -> Response:
    url, lines = _credential(uscc, request, ledger)
    return Response(qr_svg(url, lines, module=module), media_type="image/svg+xml")


@router.get(
    "/{uscc}/standing",
    summary="The trader's level, scopes and status at a moment, rebuilt from the whitelist's history",
    description=(
        "`status` is active, suspended, revoked, expired, not_yet_valid or unknown at `at`; `since` names the "
        "change that put the entry in that state. Read from the index's mirror of the contract's events, "
        "synced to the head first when the chain answers (`mirrorSynced`); `mirrorBlock` says how far it had read."
    ),
    responses={400: {"description": "malformed USCC or unreadable time"}},
)
def trader_standing_route(
    uscc: str,
    ledger: LedgerDep,
    at: Annotated[str | None, Query(description="When: ISO 8601 or unix seconds (default: now, i.e. the "
                                                "latest entry judged at the current time).")] = None,
) -> dict[str, Any]:
    code = validate_uscc(uscc)
    moment = parse_time(at, field="at") if at is not None else None  # None: the latest entry, judged now
    synced, problem = try_sync(ledger)
    with Session(ledger.engine) as session:
        body = trader_standing(session, code, moment, contract=Whitelist.from_ledger(ledger).address)
    body["mirrorSynced"] = synced
    if problem:
        body["syncProblem"] = problem
    return body
