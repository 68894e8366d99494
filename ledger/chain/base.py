"""What every chain adapter offers: contracts, locally signed transactions, calls.

Keys never leave this process: transactions are signed here and sent raw, so
the same code talks to the embedded chain, anvil, or a Besu node that holds
no accounts. Reverts surface as typed errors (:mod:`ledger.chain.reverts`).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxReceipt

from ledger.chain.artifacts import load_artifact
from ledger.chain.reverts import decode_revert
from ledger.errors import ChainError

GAS_HEADROOM = 1.25


class ChainTimeoutError(ChainError):
    """A transaction was sent but no receipt arrived in time."""


class TransactionFailedError(ChainError):
    """A transaction was mined but reverted, or the node refused to accept it."""


class _NonceBook:
    """Hands out consecutive nonces per sender so one process can pipeline many
    transactions without asking the node each time (and racing itself)."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> int:
        with self._lock:
            if address not in self._next:
                self._next[address] = self._w3.eth.get_transaction_count(address, "pending")
            nonce = self._next[address]
            self._next[address] = nonce + 1
            return nonce

    def forget(self, address: str) -> None:
        """Re-read from the node next time: a send failed, so our count may be off."""
        with self._lock:
            self._next.pop(address, None)


class Chain(ABC):
    """A connection to one EVM chain.

    ``gas_price`` fixes the price of legacy transactions (0 on a zero-gas
    permissioned network); ``None`` means ask the node (EIP-1559 when the
    chain has a base fee).
    """

    kind: str
    # Fields every eth_call carries (the embedded chain would otherwise charge
    # a default gas price to an empty account).
    call_overrides: dict[str, int] = {}

    def __init__(self, w3: Web3, *, gas_price: int | None, receipt_timeout: float) -> None:
        self.w3 = w3
        self.gas_price = gas_price
        self.receipt_timeout = receipt_timeout
        self._nonces = _NonceBook(w3)
        self._chain_id: int | None = None

    @property
    @abstractmethod
    def description(self) -> str:
        """Where this chain is, for messages (a URL or a file)."""

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._guard(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def close(self) -> None:
        """Release what the adapter holds (files, connections)."""

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- contracts -------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        artifact = load_artifact(name)
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)

    def deploy(self, name: str, *args: Any, sender: LocalAccount) -> Contract:
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(factory.constructor(*args), sender=sender)
        return self.contract(name, receipt["contractAddress"])

    def code_at(self, address: str) -> bytes:
        return bytes(self._guard(lambda: self.w3.eth.get_code(Web3.to_checksum_address(address))))

    def block_hash_at(self, number: int) -> str | None:
        """The hash (0x hex) of the chain's block at height ``number``; None if it has none (a reorg to a shorter chain)."""
        try:
            block = self._guard(lambda: self.w3.eth.get_block(number))
        except BlockNotFound:
            return None
        return "0x" + bytes(block["hash"]).hex()

    # -- transactions ----------------------------------------------------

    def call(self, fn: ContractFunction, block: int | str = "latest") -> Any:
        """Run a view function; reverts raise the typed error."""
        try:
            return self._guard(lambda: fn.call(dict(self.call_overrides), block_identifier=block))
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from None

    def transact(self, fn: ContractFunction | ContractConstructor, *, sender: LocalAccount, gas: int | None = None) -> TxReceipt:
        """Sign, send and wait for one transaction; raise if it reverts."""
        return self.wait(self.send(fn, sender=sender, gas=gas))

    def send(self, fn: ContractFunction | ContractConstructor, *, sender: LocalAccount, gas: int | None = None) -> HexBytes:
        """Sign and send without waiting: callers may pipeline many, then wait."""
        fees = self._fees()
        tx: dict[str, Any] = {"from": sender.address, "chainId": self.chain_id, **fees}
        try:
            if gas is None:
                # With the fees: a node judges the sender's balance at the price it will pay (zero on zero-gas chains).
                estimate = self._guard(lambda: fn.estimate_gas({"from": sender.address, **fees}))
                gas = int(estimate * GAS_HEADROOM)
            tx["gas"] = gas
            tx["nonce"] = self._nonces.take(sender.address)
            built = fn.build_transaction(tx)
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from None
        return self._send_signed(built, sender)

    def send_value_async(self, to: str, amount_wei: int, *, sender: LocalAccount) -> HexBytes:
        """Plain transfer (e.g. to fund a new key where gas costs ether), not awaited."""
        tx: dict[str, Any] = {
            "to": Web3.to_checksum_address(to),
            "value": amount_wei,
            "gas": 21_000,
            "chainId": self.chain_id,
            **self._fees(),
            "nonce": self._nonces.take(sender.address),
        }
        return self._send_signed(tx, sender)

    def send_value(self, to: str, amount_wei: int, *, sender: LocalAccount) -> TxReceipt:
        return self.wait(self.send_value_async(to, amount_wei, sender=sender))

    def _send_signed(self, tx: dict[str, Any], sender: LocalAccount) -> HexBytes:
        signed = sender.sign_transaction(tx)
        try:
            return self._guard(lambda: self.w3.eth.send_raw_transaction(signed.raw_transaction))
        except ChainError:
            self._nonces.forget(sender.address)
            raise
        except Exception as exc:  # the node's refusal: bad nonce, underpriced, invalid...
            self._nonces.forget(sender.address)
            raise TransactionFailedError(f"{self.description} refused the transaction from {sender.address}: {exc}") from None

    def forget_nonce(self, address: str) -> None:
        """Read ``address``'s next nonce from the node again (after a reorg dropped its transactions)."""
        self._nonces.forget(address)

    def wait(self, tx_hash: HexBytes) -> TxReceipt:
        """Wait for a receipt (``receipt_timeout`` seconds); raise if reverted."""
        deadline = time.monotonic() + self.receipt_timeout
        delay = 0.05
        while True:
            try:
                receipt = self._guard(lambda: self.w3.eth.get_transaction_receipt(tx_hash))
                break
            except TransactionNotFound:
                if time.monotonic() >= deadline:
                    raise ChainTimeoutError(
                        f"no receipt for transaction 0x{bytes(tx_hash).hex()} after {self.receipt_timeout:.0f}s "
                        f"from {self.description}: the node may be stalled or not producing blocks"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        if receipt["status"] != 1:
            raise self._explain_failure(receipt)
        return receipt

    def _explain_failure(self, receipt: TxReceipt) -> ChainError:
        """Replay a reverted transaction at its block to learn the revert reason."""
        tx = self.w3.eth.get_transaction(receipt["transactionHash"])
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "value": tx["value"]}
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            return decode_revert(exc.data if isinstance(exc.data, str) else None)
        except Exception:  # the replay is best effort; the failure itself is certain
            pass
        return TransactionFailedError(
            f"transaction 0x{bytes(receipt['transactionHash']).hex()} reverted in block {receipt['blockNumber']} "
            f"(gas used {receipt['gasUsed']}): out of gas, or state changed since it was sent"
        )

    def _fees(self) -> dict[str, int]:
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        block = self._guard(lambda: self.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": self._guard(lambda: self.w3.eth.gas_price)}
        tip = 1_000_000_000 if base_fee else 0
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def _guard(self, operation: Any) -> Any:
        """Run a node request, turning transport failures into ChainError.

        Reverts (ContractLogicError) and missing receipts pass through: the
        callers above know what they mean.
        """
        try:
            return operation()
        except (ContractLogicError, TransactionNotFound, ChainError, Web3RPCError):
            raise
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise ChainError(f"chain node {self.description} is unreachable: {exc.__class__.__name__}: {exc}") from None
        except Exception as exc:
            if _is_transport_error(exc):
                raise ChainError(f"chain node {self.description} is unreachable: {exc}") from None
            raise


def _is_transport_error(exc: Exception) -> bool:
    import requests

    return isinstance(exc, requests.exceptions.RequestException)
