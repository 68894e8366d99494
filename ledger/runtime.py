"""Open an initialised data directory: its chain, its contracts, its index.

Every command and the API go through :func:`open_ledger`, so the checks a
user relies on (is this our data dir, is the node on the right chain, are our
contracts still there, is the database reachable) happen in one place and
fail with one clear message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from web3.contract import Contract

from ledger.chain.base import Chain
from ledger.chain.embedded import EmbeddedChain
from ledger.chain.rpc import RpcChain
from ledger.config import Settings
from ledger.datadir import Manifest, read_manifest
from ledger.errors import ConfigError, ContractNotDeployedError
from ledger.index.db import open_index
from ledger.keystore import load_keystore, resolve_password


def open_chain(settings: Settings, *, rpc_url: str | None = None, funded: list[str] | None = None) -> Chain:
    """The chain ``settings`` name: a JSON-RPC node, else the embedded chain in the data dir."""
    url = rpc_url or settings.rpc_url
    if url:
        return RpcChain(
            url,
            gas_price=settings.gas_price,
            request_timeout=settings.request_timeout,
            receipt_timeout=settings.receipt_timeout,
            expected_chain_id=settings.chain_id,
        )
    return EmbeddedChain(settings.embedded_chain_path, funded=funded or [], receipt_timeout=settings.receipt_timeout)


@dataclass
class Ledger:
    """An opened data directory. Close it (or use ``with``) to release the chain."""

    settings: Settings
    manifest: Manifest
    chain: Chain
    engine: Engine | None
    _contracts: dict[str, Contract] = field(default_factory=dict)

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            address = self.manifest.contracts.get(name)
            if address is None:
                raise ConfigError(f"data dir {self.settings.data_dir} has no {name} contract; re-run `traceledger init`")
            self._contracts[name] = self.chain.contract(name, address)
        return self._contracts[name]

    @cached_property
    def service_account(self) -> LocalAccount:
        """The service key, decrypted on first use (password from settings or the terminal)."""
        password = resolve_password(self.settings, purpose=str(self.settings.service_key_file))
        return load_keystore(self.settings.service_key_file, password)

    def close(self) -> None:
        self.chain.close()
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verify_deployment(chain: Chain, manifest: Manifest) -> None:
    """Raise unless ``chain`` is the manifest's chain and holds its contracts."""
    if chain.chain_id != manifest.chain_id:
        raise ConfigError(
            f"the chain at {chain.description} has id {chain.chain_id}, but this data dir was "
            f"initialised on chain {manifest.chain_id}: wrong RPC URL?"
        )
    for name, address in manifest.contracts.items():
        if not chain.code_at(address):
            raise ContractNotDeployedError(
                f"no {name} contract at {address} on {chain.description}: the chain was reset or "
                "replaced since `traceledger init`; re-run init against it"
            )


def open_ledger(settings: Settings, *, with_index: bool = True) -> Ledger:
    """Open the data dir of ``settings``, checking chain, contracts and index."""
    manifest = read_manifest(settings.data_dir)
    if manifest.chain_kind == "embedded" and settings.rpc_url:
        raise ConfigError(
            f"data dir {settings.data_dir} was initialised on the embedded chain; its contracts are "
            f"not on {settings.rpc_url}. Unset TRACELEDGER_RPC_URL or init a new data dir."
        )
    chain = open_chain(settings, rpc_url=(settings.rpc_url or manifest.rpc_url) if manifest.chain_kind == "rpc" else None)
    try:
        verify_deployment(chain, manifest)
        engine = open_index(settings.index_url) if with_index else None
    except BaseException:
        chain.close()
        raise
    return Ledger(settings=settings, manifest=manifest, chain=chain, engine=engine)
