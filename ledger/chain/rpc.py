"""Any EVM node over JSON-RPC: anvil in tests, Hyperledger Besu (QBFT) in production.

QBFT and Clique put more than 32 bytes of extra data in block headers, which
web3 refuses unless the proof-of-authority middleware strips it; the
middleware is harmless on other chains, so it is always installed.

A node (or a proxy in front of it) can misbehave: answer an HTML error page,
JSON that is not a JSON-RPC response, a result of the wrong type, or nothing
at all. Each of these becomes a :class:`ChainError` naming the node, after at
most ``request_timeout`` seconds per request, so a command fails with one
clear line and the service's background loops (which retry ``LedgerError``
with backoff) keep running instead of dying on a decoding error.

The environment's proxy, CA bundle and netrc settings for the node's URL are
read once, when the chain is opened: requests would otherwise scan the whole
environment on every call (a third of a whitelist check's CPU time).
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from web3 import Web3
from web3._utils.http_session_manager import HTTPSessionManager
from web3.exceptions import BadResponseFormat
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from ledger.chain.base import Chain
from ledger.errors import ChainError

_PREVIEW_CHARS = 80


class _SessionsWithoutEnvironment(HTTPSessionManager):
    """web3's per-thread sessions, told not to consult the environment on each request
    (:func:`environment_settings` has read it once, into the request arguments)."""

    def cache_and_return_session(self, *args: Any, **kwargs: Any) -> requests.Session:
        session = super().cache_and_return_session(*args, **kwargs)
        session.trust_env = False
        return session


def environment_settings(url: str) -> dict[str, Any]:
    """What requests would take from the environment for ``url``: proxies, CA bundle, netrc credentials."""
    with requests.Session() as probe:
        found = probe.merge_environment_settings(url, {}, None, None, None)
    settings = {"proxies": found["proxies"], "verify": found["verify"]}
    if found.get("cert"):
        settings["cert"] = found["cert"]
    auth = requests.utils.get_netrc_auth(url)
    if auth:
        settings["auth"] = auth
    return settings


class _StrictHTTPProvider(HTTPProvider):
    """web3's HTTP provider, refusing any answer that is not the JSON-RPC 2.0
    response to the request sent (same id): a proxy that mixes answers up
    would otherwise hand one request another's result."""

    def __init__(self, url: str, request_kwargs: dict[str, Any]) -> None:
        super().__init__(url, request_kwargs={**environment_settings(url), **request_kwargs},
                         exception_retry_configuration=None)
        self._request_session_manager = _SessionsWithoutEnvironment()

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        raw = super()._make_request(method, request_data)
        try:
            response = json.loads(raw)
        except ValueError:  # also UnicodeDecodeError
            raise ChainError(
                f"chain node {self.endpoint_uri} answered {method} with something that is not JSON: {_preview(raw)}; "
                "is this URL a JSON-RPC endpoint?"
            ) from None
        request = json.loads(request_data)
        if not isinstance(request, dict):  # a batch: web3 checks each answer itself
            return raw
        if not _answers(response, request.get("id")):
            raise ChainError(
                f"chain node {self.endpoint_uri} answered {method} with JSON that is not its JSON-RPC 2.0 response: {_preview(raw)}"
            )
        shape = _RESULT_SHAPES.get(method)
        if "result" in response and shape is not None and not shape[1](response["result"]):
            raise ChainError(
                f"chain node {self.endpoint_uri} answered {method} with {_preview(json.dumps(response['result']).encode())} "
                f"where {shape[0]} is expected"
            )
        return raw


def _answers(response: Any, request_id: Any) -> bool:
    return (
        isinstance(response, dict)
        and response.get("jsonrpc") == "2.0"
        and response.get("id") == request_id
        and ("result" in response or "error" in response)
    )


_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_HEX_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_QUANTITY = ("a hex quantity", lambda value: isinstance(value, str) and _HEX_QUANTITY.fullmatch(value) is not None)
_DATA = ("hex data", lambda value: isinstance(value, str) and _HEX_DATA.fullmatch(value) is not None)
_OBJECT_OR_NULL = ("an object or null", lambda value: value is None or isinstance(value, dict))
# The top-level type of the answer to each method traceledger calls; web3's
# formatters fail on anything else with errors that do not name the node.
_RESULT_SHAPES = {
    "eth_chainId": _QUANTITY, "eth_blockNumber": _QUANTITY, "eth_gasPrice": _QUANTITY, "eth_estimateGas": _QUANTITY,
    "eth_getTransactionCount": _QUANTITY, "eth_getBalance": _QUANTITY, "eth_maxPriorityFeePerGas": _QUANTITY,
    "eth_call": _DATA, "eth_getCode": _DATA, "eth_sendRawTransaction": _DATA,
    "eth_getBlockByNumber": _OBJECT_OR_NULL, "eth_getBlockByHash": _OBJECT_OR_NULL,
    "eth_getTransactionReceipt": _OBJECT_OR_NULL, "eth_getTransactionByHash": _OBJECT_OR_NULL,
    "eth_getLogs": ("a list", lambda value: isinstance(value, list)),
}


def _preview(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").replace("\n", " ").strip()
    return repr(text[:_PREVIEW_CHARS] + ("…" if len(text) > _PREVIEW_CHARS else ""))


class RpcChain(Chain):
    kind = "rpc"

    def __init__(
        self,
        url: str,
        *,
        gas_price: int | None = None,
        request_timeout: float = 10.0,
        receipt_timeout: float = 60.0,
        expected_chain_id: int | None = None,
    ) -> None:
        """Connect to ``url``; fail now, with the URL in the message, if it is unusable.

        ``request_timeout`` bounds each request: web3's own retries are turned
        off, because they multiply the wait a user configured (callers that
        should retry, like the anchorer, do so with their own backoff).
        """
        if not url.startswith(("http://", "https://")):
            raise ChainError(f"RPC URL {url!r} must start with http:// or https://")
        self.url = url
        provider = _StrictHTTPProvider(url, request_kwargs={"timeout": request_timeout})
        w3 = Web3(provider)
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        super().__init__(w3, gas_price=gas_price, receipt_timeout=receipt_timeout)
        actual = self.chain_id  # also proves the node answers
        if expected_chain_id is not None and actual != expected_chain_id:
            raise ChainError(
                f"node {url} is on chain {actual}, not the configured chain {expected_chain_id}: "
                "wrong RPC URL or wrong TRACELEDGER_CHAIN_ID"
            )

    @property
    def description(self) -> str:
        return self.url

    def _guard(self, operation: Any) -> Any:
        """As :meth:`Chain._guard`, and a well-formed response whose result web3
        cannot read (a quantity that is not hex, a malformed block) is the node's
        fault too. ValueError is raised by web3's result formatters; web3's
        input validation raises its own Web3ValidationError, which passes."""
        try:
            return super()._guard(operation)
        except (ValueError, BadResponseFormat) as exc:
            raise ChainError(f"chain node {self.url} gave a malformed answer: {exc}") from None
