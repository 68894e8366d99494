"""The embedded chain: py-evm through eth-tester, in this process, on disk.

Every mined block is committed to one SQLite file (:mod:`ledger.chain.kvstore`)
before the transaction's hash is returned, so a restarted process sees every
contract and transaction it sent before. One block per transaction (auto-mine)
keeps receipts immediate; the base fee is pinned at zero, like a zero-gas
permissioned network, so keys need no funding.

Only one process may open a chain file at a time (an exclusive file lock):
py-evm keeps the chain head in memory, and two writers would fork it.
"""

from __future__ import annotations

import ast
import fcntl
import os
import threading
from pathlib import Path

from eth.db.atomic import AtomicDB
from eth_tester import EthereumTester
from eth_tester.backends.pyevm import PyEVMBackend
from eth_tester.backends.pyevm.main import get_default_genesis_params, setup_tester_chain
from eth_tester.exceptions import TransactionFailed
from eth_utils import to_canonical_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester import EthereumTesterProvider

from ledger.chain.base import Chain
from ledger.chain.kvstore import SqliteKV
from ledger.errors import ChainError

GENESIS_BALANCE_WEI = 10**27
GENESIS_GAS_LIMIT = 2**34


class _PersistentBackend(PyEVMBackend):
    """eth-tester's py-evm backend over a durable key-value store."""

    def __init__(self, store: SqliteKV, funded: list[str]) -> None:
        self._store = store
        genesis_state = {
            to_canonical_address(address): {"balance": GENESIS_BALANCE_WEI, "nonce": 0, "code": b"", "storage": {}}
            for address in funded
        }
        genesis_params = get_default_genesis_params()
        genesis_params["base_fee_per_gas"] = 0
        # EIP-1559 raises the base fee after any block fuller than half the gas
        # limit, and integer rounding never brings it back to 0; a limit no
        # block approaches keeps the chain zero-gas, as on Besu's zeroBaseFee.
        genesis_params["gas_limit"] = GENESIS_GAS_LIMIT
        super().__init__(genesis_parameters=genesis_params, genesis_state=genesis_state or None)

    def reset_to_genesis(self, genesis_params=None, genesis_state=None, num_accounts=None, vm_configuration=None, mnemonic=None, hd_path=None):  # noqa: PLR0913 (eth-tester's signature)
        # eth-tester builds its chain class inside setup_tester_chain; build a
        # throwaway in-memory chain to obtain that class, then open ours on disk.
        self.account_keys, template = setup_tester_chain(None, None, 1, vm_configuration, mnemonic, hd_path)
        chain_class = type(template)
        base_db = AtomicDB(self._store)
        if self._store.is_empty():
            self.chain = chain_class.from_genesis(base_db, genesis_params, genesis_state or {})
            self._store.commit()
        else:
            self.chain = chain_class(base_db)

    def mine_blocks(self, num_blocks=1, coinbase=None):
        hashes = super().mine_blocks(num_blocks) if coinbase is None else super().mine_blocks(num_blocks, coinbase)
        self._store.commit()
        return hashes


class _SerialProvider(EthereumTesterProvider):
    """py-evm is not thread-safe; the API's worker threads share one chain."""

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__(tester)
        self._lock = threading.RLock()

    def make_request(self, method, params):  # type: ignore[no-untyped-def]
        with self._lock:
            try:
                return super().make_request(method, params)
            except TransactionFailed as exc:
                raise _as_contract_logic_error(exc) from None


def _as_contract_logic_error(exc: TransactionFailed) -> ContractLogicError:
    """web3's tester provider flattens revert data into a message (the repr of
    the bytes). Recover the bytes and hand them on the way a JSON-RPC node
    would, so reverts decode the same on every chain."""
    current: BaseException | None = exc
    while current is not None:
        raw = current.args[0] if current.args else None
        if isinstance(raw, Exception):
            raw = raw.args[0] if raw.args else None
        if isinstance(raw, str):
            literal = raw.removeprefix("execution reverted: ")
            if literal[:2] in ("b'", 'b"'):
                raw = ast.literal_eval(literal)
        if isinstance(raw, bytes):
            return ContractLogicError(str(exc), data="0x" + raw.hex())
        current = current.__context__
    return ContractLogicError(str(exc), data=None)


class EmbeddedChain(Chain):
    kind = "embedded"
    call_overrides = {"gasPrice": 0}

    def __init__(self, path: Path, *, funded: list[str] = (), receipt_timeout: float = 30.0) -> None:
        """Open (or create, funding ``funded`` addresses at genesis) the chain at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock_file = open(path.with_suffix(".lock"), "a+")  # noqa: SIM115 (held for the chain's life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise ChainError(
                f"embedded chain {path} is in use by {holder}; stop it, or run against a shared "
                "JSON-RPC node (TRACELEDGER_RPC_URL) to use the chain from several processes"
            ) from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}")
        self._lock_file.flush()
        self._store = SqliteKV(path)
        backend = _PersistentBackend(self._store, list(funded))
        self.tester = EthereumTester(backend=backend, auto_mine_transactions=True)
        super().__init__(Web3(_SerialProvider(self.tester)), gas_price=0, receipt_timeout=receipt_timeout)

    @property
    def description(self) -> str:
        return f"embedded chain {self.path}"

    def close(self) -> None:
        if self._lock_file.closed:
            return
        self._store.commit()
        self._store.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
