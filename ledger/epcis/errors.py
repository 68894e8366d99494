"""Errors of EPCIS capture, all under :class:`EPCISError`.

A capture request fails on the first problem found, and the error names
where it is so the submitter can fix it without guessing:

- :class:`InvalidDocumentError`: the envelope is wrong (not an
  ``EPCISDocument``, no ``epcisBody.eventList``...);
  :class:`DocumentTooLargeError` when it holds more events than one
  capture accepts.
- :class:`InvalidEventError`: one event is wrong; it carries the event's
  index in ``epcisBody.eventList`` and a JSON path inside that event.
- :class:`InvalidIdentifierError` and :class:`VocabularyError`: raised by
  the identifier and vocabulary helpers on their own (the resolver uses
  them directly); the validator turns them into :class:`InvalidEventError`.
"""

from __future__ import annotations

from ledger.errors import LedgerError


class EPCISError(LedgerError):
    """An EPCIS document, event, identifier or vocabulary value is unacceptable."""

    http_status = 400


class InvalidDocumentError(EPCISError):
    """The document as a whole is unacceptable, before any event is looked at.

    ``field`` is a JSON path from the document root, e.g.
    ``epcisBody.eventList``; ``reason`` says what is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"EPCIS document, field {field}: {reason}")


class DocumentTooLargeError(InvalidDocumentError):
    """The document (its bytes, or its number of events) exceeds what one capture accepts.

    A 413 rather than a 400: the content is not wrong, there is too much of
    it, and the remedy is to split it into several captures. Same
    ``(field, reason)`` as its parent, e.g. ``("epcisBody.eventList",
    "10001 events, the limit is 10000 per document; ...")``.
    """

    http_status = 413


class InvalidEventError(EPCISError):
    """One event of a document is unacceptable.

    ``event_index`` is the 0-based position in ``epcisBody.eventList`` (None
    when a single event was validated on its own); ``field`` is a JSON path
    inside the event such as ``epcList[2]``, ``quantityList[0].epcClass`` or
    ``bizStep`` (``$`` for the event itself); ``reason`` says what is wrong.
    """

    def __init__(self, event_index: int | None, field: str, reason: str) -> None:
        self.event_index = event_index
        self.field = field
        self.reason = reason
        where = f"field {field}" if event_index is None else f"event {event_index}, field {field}"
        super().__init__(f"{where}: {reason}")


class InvalidIdentifierError(EPCISError):
    """An EPC URN or GS1 Digital Link URI is malformed or names no valid GS1 key.

    ``identifier`` is the text as given; ``reason`` names the problem, e.g.
    ``GTIN 09521234543210 has check digit 0, expected 3``.
    """

    def __init__(self, identifier: str, reason: str) -> None:
        self.identifier = identifier
        self.reason = reason
        super().__init__(f"identifier {_clip(identifier)!r}: {reason}")


class VocabularyError(EPCISError):
    """A value is neither a known CBV 2.0 term nor a usable extension URI.

    ``vocabulary`` is the EPCIS field it was given for (``bizStep``,
    ``disposition``...); ``reason`` names the value and what is wrong.
    """

    def __init__(self, vocabulary: str, value: str, reason: str) -> None:
        self.vocabulary = vocabulary
        self.value = value
        self.reason = reason
        super().__init__(f"{vocabulary}: {reason}")


def json_type_name(value: object) -> str:
    """The JSON name of a decoded value's type, for messages ("array", "null"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _clip(text: str, limit: int = 120) -> str:
    # An identifier is echoed back to the client; an oversized one must not
    # turn every error message into a copy of the attack payload.
    return text if len(text) <= limit else text[:limit] + "..."
