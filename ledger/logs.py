"""Log output of ``traceledger serve``: text for humans, or one JSON object per line.

``TRACELEDGER_LOG_FORMAT=json`` writes each record as a JSON object with
``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``msg``, plus, for the
access log, the request fields (``method``, ``route``, ``path``, ``status``,
``duration_ms``, ``request_id``). Any record logged while a request is being
served carries that request's ``request_id``.

Secrets never reach the output: both formats pass every message through
:func:`redact`, which blanks EIP-712/ECDSA signatures (65 bytes in hex) and
the value of anything called a password, passphrase, secret, private key or
signature. Keys and passwords are not logged on purpose anywhere; this is
the net under that rule.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("traceledger_request_id", default=None)
"""The id of the request being served (set by the API's request middleware)."""

ACCESS_LOGGER = "traceledger.access"
REQUEST_FIELDS = ("method", "route", "path", "status", "duration_ms", "request_id")
_access_logger = logging.getLogger(ACCESS_LOGGER)

_SIGNATURE = re.compile(r"\b(0x)?[0-9a-fA-F]{130}\b")
_NAMED_SECRET = re.compile(
    r"(?i)\b(password|passphrase|secret|private[_ -]?key|privkey|tl-signature|signature)"
    r"([\"']?\s*[:=]\s*[\"']?)([^\"'\s,;}&]+)"
)


def redact(text: str) -> str:
    """``text`` with signatures and named secrets replaced by ``[redacted]``."""
    # Cheap tests first: most lines (every access line) hold neither pattern.
    if len(text) >= 130:
        text = _SIGNATURE.sub("[redacted signature]", text)
    if "=" in text or ":" in text:
        text = _NAMED_SECRET.sub(r"\1\2[redacted]", text)
    return text


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; see the module docstring for the fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for name in REQUEST_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if "request_id" not in entry and (request_id := REQUEST_ID.get()) is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


class TextFormatter(logging.Formatter):
    """``2026-05-01T08:00:00.000Z INFO logger: message [request id]``, secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        # Line breaks escaped: a request path cannot forge a second log line.
        message = redact(record.getMessage()).replace("\r", "\\r").replace("\n", "\\n")
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {message}"
        request_id = record.__dict__.get("request_id") or REQUEST_ID.get()
        if request_id and record.name != ACCESS_LOGGER:  # the access line already shows it
            line += f" [{request_id}]"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure_logging(log_format: str = "text", *, level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record (uvicorn's included) to ``stream`` (stderr) in ``log_format``.

    Precondition: ``log_format`` is ``"json"`` or ``"text"`` (Settings checks
    it). Replaces the root logger's handlers, so calling it twice does not
    double the output. uvicorn's own access log is silenced: the API's request
    middleware writes a richer one (route template, duration, request id).
    Python warnings are routed through logging as well.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.captureWarnings(True)  # Python warnings become records too: one format on stderr
    return handler


def log_request(*, method: str, route: str, path: str, status: int, duration_ms: float, request_id: str) -> None:
    """One access-log line for a served request (INFO on ``traceledger.access``)."""
    if _access_logger.isEnabledFor(logging.INFO):
        _access_logger.info(
            "%s %s %d %.1fms %s", method, path, status, duration_ms, request_id,
            extra={"method": method, "route": route, "path": path, "status": status,
                   "duration_ms": round(duration_ms, 3), "request_id": request_id},
        )
