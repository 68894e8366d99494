"""Reading the API's trace answer without trusting its shape.

The API's answer is whatever came over the wire: these helpers read its
parts and raise :class:`MalformedAnswer` (never a KeyError or TypeError)
when a part does not have the shape the API documents, so that
:mod:`scanner.verify` can report it as a failing check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.bundle import hex32 as parse_hex32
from ledger.epcis.vocab import normalize
from ledger.errors import LedgerError

__all__ = ["MalformedAnswer", "ServedEvent", "hex32", "instant", "place_of", "required_field", "vocabulary_term"]


class MalformedAnswer(LedgerError):
    """A part of the API's answer does not have the shape the API documents."""


@dataclass
class ServedEvent:
    """One event entry of the trace, and what its record proves."""

    position: int
    entry: dict[str, Any]
    log_index: int
    kind: str = ""
    body: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    """The record body, parsed: eventHashID, event, captureRecord, signer."""
    intact: bool = False
    """The record re-hashes to the served leaf and holds the served event (check ``events``)."""

    @property
    def label(self) -> str:
        return f"event at log index {self.log_index}"

    @property
    def event(self) -> dict[str, Any]:
        return self.content.get("event") or {}


def required_field(mapping: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``mapping[name]``, which must be a ``kind`` (a bool is no int); raises MalformedAnswer naming ``where``."""
    if not isinstance(mapping, dict) or name not in mapping:
        raise MalformedAnswer(f"{where} has no {name!r}")
    value = mapping[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise MalformedAnswer(f"{where}.{name} is not {getattr(kind, '__name__', kind)}")
    return value


def hex32(value: Any, where: str) -> bytes:
    """A 32-byte hash given as hex (``0x`` optional); raises MalformedAnswer naming ``where``."""
    return parse_hex32(value, where, error=MalformedAnswer)


def instant(text: Any) -> datetime | None:
    """An ISO 8601 time as an aware datetime (UTC if it names no offset), or None if it is none."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def place_of(event: Mapping[str, Any]) -> str | None:
    """The location URI of an EPCIS event: its business location, else its read point (None if neither)."""
    for name in ("bizLocation", "readPoint"):
        value = event.get(name)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return value["id"]
    return None


def vocabulary_term(vocabulary: Any, value: Any) -> Any:
    """``value`` normalized in a CBV ``vocabulary`` (None stays None; a term it does not know is kept as is)."""
    try:
        return normalize(vocabulary, value) if value is not None else None
    except LedgerError:
        return value
