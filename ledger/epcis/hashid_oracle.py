"""Offline adapter to the reference implementation of the EPCIS event hash.

The PyPI package ``epcis-event-hash-generator`` (1.9.x) is the reference against
which ``ledger.epcis.hashid`` is tested and benchmarked.  It is an optional,
test-only dependency: nothing in the ledger imports this module at run time.

Running it offline and repeatably needs three precautions, all taken here:

* JSON-LD contexts.  The reference expands each document with pyld, which loads the
  ``@context`` URLs.  The package ships the two EPCIS 2.0 context files it knows
  (``https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld`` and
  ``https://gs1.github.io/EPCIS/epcis-context.jsonld``) and would fall back to the
  internet for anything else.  We install a document loader that serves exactly those
  two files from the package and refuses every other URL at once (no network, no
  10-second time-out).
* Global state.  The reference keeps the namespace prefixes of every document it has
  parsed in a module-global dict; we clear it before each document so an event's
  hash does not depend on what was hashed before.
* Document shape.  It hashes EPCIS *documents*; we wrap each event in its own
  EPCISDocument whose ``@context`` is the EPCIS context followed by the event's own
  ``@context`` entries (the event-level ``@context`` is moved to the document, as our
  implementation treats it), and we round-trip through JSON so that the reference
  cannot mutate the caller's data.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

__all__ = ["EPCIS_CONTEXT_URL", "available", "oracle_hash_ids", "oracle_prehashes"]

EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

try:  # pragma: no cover - depends on the environment
    from epcis_event_hash_generator import hash_generator as _hg
    from epcis_event_hash_generator import json_to_py as _j2p
    from pyld import jsonld as _jsonld

    _IMPORT_ERROR: Exception | None = None
except Exception as exc:  # noqa: BLE001 - any failure means "not available"
    _IMPORT_ERROR = exc

_CONTEXT_FILES = {
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld": (
        "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
    ),
    "https://gs1.github.io/EPCIS/epcis-context.jsonld": (
        "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld"
    ),
}
_loaded: dict[str, Any] = {}


def available() -> str | None:
    """None if the reference can be used, else the reason why not."""
    if _IMPORT_ERROR is not None:
        return f"epcis-event-hash-generator is not importable ({_IMPORT_ERROR!r})"
    return None


def context_document(url: str) -> Any:
    """The EPCIS JSON-LD context shipped inside the reference package."""
    if url not in _loaded:
        files = importlib.resources.files("epcis_event_hash_generator")
        _loaded[url] = json.loads(files.joinpath(_CONTEXT_FILES[url]).read_text(encoding="utf-8"))
    return _loaded[url]


def _offline_loader(url: str, options: Any = None) -> dict[str, Any]:
    if url not in _CONTEXT_FILES:
        raise _jsonld.JsonLdError(
            f"offline: refusing to fetch {url}", "jsonld.LoadDocumentError", code="loading document failed"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": context_document(url),
    }


def _install() -> None:
    reason = available()
    if reason:
        raise RuntimeError(reason)
    # The reference installs its own loader (with an internet fallback) at import
    # time, and other code may install loaders too: check on every use.
    if _jsonld.get_document_loader() is not _offline_loader:
        _jsonld.set_document_loader(_offline_loader)


def _document(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    ctx: list[Any] = []
    for c in (context, event.pop("@context", None)):
        if c is None:
            continue
        ctx.extend(c if isinstance(c, list) else [c])
    if not any(isinstance(c, str) and c in _CONTEXT_FILES for c in ctx):
        ctx.insert(0, EPCIS_CONTEXT_URL)
    return {
        "@context": ctx,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-01T00:00:00.000Z",
        "epcisBody": {"eventList": [event]},
    }


def oracle_prehashes(event: dict[str, Any], context: Any = None) -> list[str]:
    """The reference's pre-hash strings for one event (empty if it dropped it)."""
    _install()
    _j2p._namespaces.clear()
    events = _j2p.event_list_from_epcis_document_json(_document(event, context))
    return _hg.derive_prehashes_from_events(events, "")


def oracle_hash_ids(event: dict[str, Any], context: Any = None) -> list[str]:
    """The reference's hash IDs for one event (empty if it dropped it)."""
    return _hg.calculate_hashes_from_pre_hashes(oracle_prehashes(event, context))
