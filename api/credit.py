"""Credit profiles of participants and traders, built from the ledger's own facts.

- ``GET /v1/participants/{id}/credit``: the profile (JSON; see
  :mod:`ledger.credit.profile`). ``id`` is a participant id (0x + 64 hex
  digits), a participant's GLN (13 digits) or a trader's USCC (18 characters:
  a trader profile, from the whitelist and customs facts);
- ``GET /v1/participants/{id}/credit/page``: the same as a page in Chinese or
  English (``?lang=zh|en``, else ``Accept-Language``);
- ``GET /v1/participants/{id}/credit/export``: the verifiable export (the
  profile, the rules file, every cited event's record and inclusion proof),
  for ``traceledger verify``;
- ``GET /v1/credit/rules``: the rules in force (version, SHA-256, text, rules).

The rules are ``<data dir>/credit-rules.toml`` when present, else the
packaged default; an edit applies to the next request. A malformed id is a
400 naming the field, an unknown one a 404 (as JSON, or as a page on /page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import LedgerDep
from api.page_kit import content_language, pick_language
from api.pages_credit import render_credit_error, render_credit_page
from ledger.credit.export import export_credit_profile
from ledger.credit.rules import RuleSet, load_rules
from ledger.credit.service import credit_profile
from ledger.errors import LedgerError
from ledger.runtime import Ledger

router = APIRouter(tags=["credit"])

_ID_DOC = "A participant id (0x + 64 hex digits), a participant's GLN (13 digits), or a trader's USCC (18 characters)."


def _ledger(request: Request) -> Ledger:
    # Not the LedgerDep dependency: a sync dependency would send every request through the threadpool.
    return request.app.state.ledger


def _rules(ledger: Ledger) -> RuleSet:
    return load_rules(data_dir=ledger.settings.data_dir)


async def _off_the_loop_unless_sqlite(request: Request, work: Callable[[], Any]) -> Any:
    """Run ``work`` on the event loop on SQLite, in the threadpool on PostgreSQL.

    On SQLite a profile is milliseconds of in-process work with nothing to
    wait for, and a thread hand-off only adds contention for the GIL (the
    resolver found the same, see ``api.trace``); on PostgreSQL its twenty
    statements wait on the network, which threads overlap.
    """
    if _ledger(request).engine.dialect.name == "sqlite":
        return work()
    return await run_in_threadpool(work)


def _json(body: dict[str, Any]) -> Response:
    # Serialised as is (orjson): FastAPI's generic encoder took a quarter of a profile's time.
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/v1/participants/{id}/credit", summary="Credit profile: grade, factors with evidence, facts over time",
            description=_ID_DOC, responses={400: {"description": "malformed id"}, 404: {"description": "unknown"}},
            response_class=Response)
async def participant_credit(id: str, request: Request) -> Response:
    ledger = _ledger(request)
    return _json(await _off_the_loop_unless_sqlite(request, lambda: credit_profile(
        engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=id, rules=_rules(ledger))))


@router.get("/v1/participants/{id}/credit/page", response_class=HTMLResponse, summary="Credit profile page (zh/en)",
            description=_ID_DOC)
def participant_credit_page(
    id: str,
    request: Request,
    ledger: LedgerDep,
    lang: Annotated[str | None, Query(description="zh or en (default: Accept-Language, else en).")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    language = pick_language(accept_language, lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = content_language(language)
    try:
        profile = credit_profile(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=id,
                                 rules=_rules(ledger))
    except LedgerError as error:
        if error.http_status not in (400, 404):
            raise  # the JSON error handler answers 5xx the usual way
        return HTMLResponse(render_credit_error(error.http_status, error.message, language, here=here),
                            status_code=error.http_status, headers=headers)
    export_url = str(request.url_for("participant_credit_export", id=id))
    return HTMLResponse(render_credit_page(profile, language, here=here, export_url=export_url), headers=headers)


@router.get("/v1/participants/{id}/credit/export", summary="Verifiable export of the profile (for `traceledger verify`)",
            description=_ID_DOC, response_class=Response)
async def participant_credit_export(id: str, request: Request) -> Response:
    ledger = _ledger(request)
    return _json(await _off_the_loop_unless_sqlite(request, lambda: export_credit_profile(
        engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=id, rules=_rules(ledger))))


@router.get("/v1/credit/rules", summary="The credit rules in force: version, SHA-256, text and each rule")
def credit_rules(ledger: LedgerDep) -> dict[str, Any]:
    rules = _rules(ledger)
    return {**rules.describe(), "start": rules.start, "grades": dict(rules.bands), "maxPerFact": rules.max_per_fact,
            "rules": [rule.to_json() for rule in rules.rules], "text": rules.text}
