"""One place that turns domain errors into HTTP answers.

Routes raise :class:`ledger.errors.LedgerError` subclasses and never build
HTTPExceptions themselves; each error class carries its status code.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledger.errors import LedgerError


def error_body(kind: str, detail: str, **extra: object) -> dict[str, object]:
    return {"error": kind, "detail": detail, **extra}


async def _ledger_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    return JSONResponse(error_body(type(exc).__name__, exc.message), status_code=exc.http_status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "request"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse(error_body("ValidationError", "; ".join(problems)), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
