"""One place that turns domain errors into HTTP answers.

Routes raise :class:`ledger.errors.LedgerError` subclasses and never build
HTTPExceptions themselves; each error class carries its status code.

The OpenAPI schema says the same: every error answer is an :class:`ErrorBody`
(FastAPI would otherwise document its own 422 shape, which this app never
sends, and leave the 4xx answers routes list without any body).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import LedgerError


class ErrorBody(BaseModel):
    """Every JSON error answer: the error's kind and a message naming the field at fault."""

    model_config = ConfigDict(extra="allow")  # e.g. ``captureID`` of a refused capture

    error: str
    detail: str


def error_body(kind: str, detail: str, **extra: object) -> dict[str, object]:
    return {"error": kind, "detail": detail, **extra}


async def _ledger_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    return JSONResponse(error_body(type(exc).__name__, exc.message), status_code=exc.http_status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc is ("body", offset): say so rather than name a number
            reason = (err.get("ctx") or {}).get("error", "invalid")
            problems.append(f"body: not JSON ({reason} at character {err.get('loc', ('body', '?'))[-1]})")
            continue
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "request"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse(error_body("ValidationError", "; ".join(problems)), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """What the framework itself refuses (unknown route, wrong method, unparseable body), in the same shape."""
    assert isinstance(exc, StarletteHTTPException)
    try:
        kind = HTTPStatus(exc.status_code).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        kind = "HTTPError"
    return JSONResponse(error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"


def _document_error_answers(schema: dict[str, Any]) -> None:
    """Make every operation's error answers say what the handlers above send.

    Precondition: ``schema`` is FastAPI's generated OpenAPI document. A 4xx/5xx
    a route lists without a body gets :class:`ErrorBody` (a route whose errors
    are not JSON, like an HTML page, declares its own content and is left
    alone); FastAPI's 422 model is replaced; every operation gets a ``4XX``.
    """
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    error_answer = {"application/json": {"schema": _ERROR_REF}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code[0] not in "45":
                    continue
                content = response.get("content") or {}
                json_schema = content.get("application/json", {}).get("schema", {})
                if not content or json_schema.get("$ref") == _FASTAPI_422_REF:
                    response["content"] = dict(error_answer)
            responses.setdefault("4XX", {"description": "the request was refused: the detail names the field",
                                         "content": dict(error_answer)})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_error_answers(generate())  # FastAPI caches the document it returns: fix it once
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
