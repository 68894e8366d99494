"""Any EVM node over JSON-RPC: anvil in tests, Hyperledger Besu (QBFT) in production.

QBFT and Clique put more than 32 bytes of extra data in block headers, which
web3 refuses unless the proof-of-authority middleware strips it; the
middleware is harmless on other chains, so it is always installed.
"""

from __future__ import annotations

from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from ledger.chain.base import Chain
from ledger.errors import ChainError


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
        """Connect to ``url``; fail now, with the URL in the message, if it is unusable."""
        if not url.startswith(("http://", "https://")):
            raise ChainError(f"RPC URL {url!r} must start with http:// or https://")
        self.url = url
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": request_timeout}))
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
