"""What the scanner asks the API: a trace as JSON, and the evidence bundle of one record.

Nothing fetched here is trusted: :mod:`scanner.verify` checks every byte of
it against the chain. This module only gets the answers and says clearly
when there is none (server unreachable, an error status, not JSON).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from ledger.epcis.identifiers import DIGITAL_LINK_HOST, Identifier
from ledger.errors import LedgerError

__all__ = ["FetchError", "TraceApi", "api_base_for"]

TRACEABILITY_LINK_TYPE = "gs1:traceability"
DEFAULT_TIMEOUT = 30.0


class FetchError(LedgerError):
    """The API gave no usable answer: unreachable, an error status, or not JSON."""

    http_status = 502


def api_base_for(identifier: Identifier, api_url: str | None) -> str:
    """The resolver to ask about ``identifier``: ``api_url`` if given, else the host its Digital Link names.

    Precondition: ``api_url``, when given, is an http(s) URL. The GS1 global
    resolver (id.gs1.org) is not asked: it redirects to brands' resolvers on
    the internet, and the scanner must be told which one to use. Raises
    FetchError when no resolver can be chosen.
    """
    if api_url:
        if not api_url.startswith(("http://", "https://")):
            raise FetchError(f"--api: {api_url!r} must start with http:// or https://")
        return api_url.rstrip("/")
    uri = identifier.uri
    if not uri.startswith(("http://", "https://")) or uri.startswith(DIGITAL_LINK_HOST):
        raise FetchError(
            f"the code names {identifier.digital_link}, on GS1's global resolver; "
            "pass --api (or TRACELEDGER_API_URL) with the traceledger server to ask"
        )
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


class TraceApi:
    """A traceledger server's resolver and proof routes, over HTTP.

    ``http`` may be any ``httpx.Client`` (a FastAPI TestClient, a client with
    a MockTransport); otherwise one is made for ``base_url``.
    """

    def __init__(
        self, base_url: str = "", *, http: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._owned = http is None
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.base_url = base_url or str(self.http.base_url)

    def close(self) -> None:
        if self._owned:
            self.http.close()

    def __enter__(self) -> TraceApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def trace(self, identifier: Identifier) -> Any:
        """The trace the resolver serves for ``identifier`` (JSON with proofs), as parsed JSON."""
        query = urlencode([*identifier.attributes, ("linkType", TRACEABILITY_LINK_TYPE)])
        return self._get(f"{identifier.canonical}?{query}", what=f"the trace of {identifier.canonical}")

    def record_evidence(self, index: int) -> Any:
        """The evidence bundle of log record ``index`` (record, leaf hash, inclusion proof, checkpoint)."""
        return self._get(f"/v1/records/{int(index)}/evidence", what=f"the evidence of record {index}")

    def _get(self, path: str, *, what: str) -> Any:
        try:
            response = self.http.get(path, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise FetchError(f"the API at {self.base_url} is unreachable for {what}: {exc}") from None
        if response.status_code != 200:
            raise FetchError(f"the API answered {response.status_code} for {what}: {_detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise FetchError(f"the API's answer for {what} is not JSON") from None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "no detail"
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:300]
    return str(body)[:200]
