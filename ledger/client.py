"""Build, sign and submit EPCIS captures to a traceledger server.

    client = LedgerClient("http://127.0.0.1:8000", account)
    result = client.capture(epcis_document([object_event(...)]))

Used by the demo, the tests and the benchmarks; any HTTP client that signs
the same EIP-712 typed data works as well.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from ledger.capture.signing import SigningDomain, sign_capture
from ledger.epcis.hashid import event_hash_id
from ledger.errors import LedgerError

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


class ClientError(LedgerError):
    """The server refused a request; ``status`` and ``body`` say why."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"server answered {status}: {detail}")


@dataclass(frozen=True)
class SignedCapture:
    document: Mapping[str, Any]
    headers: dict[str, str]
    hash_ids: list[str]


def epcis_document(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": list(events)},
    }


def sign_document(document: Mapping[str, Any], account: LocalAccount, domain: SigningDomain, nonce: int | None = None) -> SignedCapture:
    """Headers that authorise ``document`` as ``account``'s capture."""
    hash_ids = [event_hash_id(event) for event in document["epcisBody"]["eventList"]]
    nonce = secrets.randbits(128) if nonce is None else nonce
    signature = sign_capture(account, domain, hash_ids, nonce)
    return SignedCapture(document, {"TL-Signer": account.address, "TL-Nonce": str(nonce), "TL-Signature": signature}, hash_ids)


class LedgerClient:
    def __init__(self, base_url: str = "", account: LocalAccount | None = None, *, timeout: float = 60.0, http: httpx.Client | None = None) -> None:
        """Talk to ``base_url``, or through ``http`` (e.g. a FastAPI TestClient)."""
        self.account = account
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._domain: SigningDomain | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ClientError(response.status_code, body)
        return body

    @property
    def domain(self) -> SigningDomain:
        if self._domain is None:
            data = self._json(self.http.get("/v1/signing-domain"))["domain"]
            self._domain = SigningDomain(chain_id=data["chainId"], verifying_contract=data["verifyingContract"])
        return self._domain

    def sign(self, document: Mapping[str, Any], nonce: int | None = None) -> SignedCapture:
        if self.account is None:
            raise LedgerError("this client has no key: pass an account to sign captures")
        return sign_document(document, self.account, self.domain, nonce)

    def submit(self, signed: SignedCapture) -> dict[str, Any]:
        return self._json(self.http.post("/capture", json=signed.document, headers=signed.headers))

    def capture(self, document: Mapping[str, Any]) -> dict[str, Any]:
        return self.submit(self.sign(document))

    def capture_status(self, capture_id: str) -> dict[str, Any]:
        return self._json(self.http.get(f"/capture/{capture_id}"))

    def events(self, **filters: Any) -> dict[str, Any]:
        return self._json(self.http.get("/events", params=filters))
