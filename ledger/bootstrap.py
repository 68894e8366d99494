"""``traceledger init``: create a data directory, or check an existing one.

A new data dir is assembled in a hidden staging folder beside it and moved
into place only when every step succeeded, so a failure (wrong password,
unreachable node, unusable database) leaves nothing half-written. Everything
that can fail because of the user's input is checked before anything is
written. Re-running ``init`` on a finished data dir changes nothing but
pending index migrations.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from ledger.chain.deploy import deploy_contracts
from ledger.config import Settings
from ledger.datadir import Manifest, check_ours_or_empty, manifest_path
from ledger.errors import ConfigError
from ledger.index.db import check_connection, create_index_engine, open_index
from ledger.keystore import create_keystore, load_keystore, resolve_password
from ledger.runtime import open_chain, open_ledger


@dataclass
class InitReport:
    data_dir: Path
    manifest: Manifest
    created: bool
    steps: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "initialised" if self.created else "already initialised; checked"
        lines = [f"data dir {self.data_dir} {verb}"] + [f"  - {step}" for step in self.steps]
        return "\n".join(lines)


def init_data_dir(settings: Settings, *, console: Console | None = None, password: str | None = None) -> InitReport:
    """Create (or verify) the data dir of ``settings``; see the module docstring."""
    data_dir = settings.data_dir
    check_ours_or_empty(data_dir)
    if manifest_path(data_dir).exists():
        with open_ledger(settings) as ledger:  # verifies chain, contracts, index (and migrates)
            return InitReport(data_dir, ledger.manifest, created=False, steps=[
                f"chain {ledger.chain.description} holds {', '.join(ledger.manifest.contracts)}",
                f"index {settings.index_url} migrated",
            ])

    # Preflight: everything the user supplied is checked before anything is written.
    key_file_given = settings.key_file is not None or settings.service_key_file.exists()
    if key_file_given:
        password = password or resolve_password(settings, purpose=str(settings.service_key_file))
        admin = load_keystore(settings.service_key_file, password)
    else:
        password = password or resolve_password(settings, purpose="the new service key", confirm=True)
        if not password:
            raise ConfigError("an empty keystore password is not allowed")
    if settings.rpc_url:
        open_chain(settings).close()
    if settings.database_url:
        probe = create_index_engine(settings.database_url)
        try:
            check_connection(probe)
        finally:
            probe.dispose()

    staging = data_dir.parent / f".{data_dir.name}.init-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    staged = settings.model_copy(update={"data_dir": staging})
    steps: list[str] = []
    try:
        if not key_file_given:
            admin = create_keystore(staged.service_key_file, password)
            steps.append(f"service key {admin.address} in {settings.service_key_file}")
        with open_chain(staged, funded=[admin.address]) as chain:
            contracts = deploy_contracts(chain, admin)
            deployed_block = chain.w3.eth.block_number
            manifest = Manifest(
                chain_kind=chain.kind,
                chain_id=chain.chain_id,
                rpc_url=settings.rpc_url,
                service_address=admin.address,
                contracts=contracts,
                deployed_block=deployed_block,
            )
            steps.append(f"contracts deployed on {chain.kind} chain {chain.chain_id}: " + ", ".join(f"{k} {v}" for k, v in contracts.items()))
        open_index(staged.index_url).dispose()
        steps.append(f"index {settings.index_url} migrated")
        manifest.write(staging)
        _move_into_place(staging, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if console is not None and not key_file_given:
        console.print(f"[dim]keep the password of {settings.service_key_file}: it cannot be recovered[/]")
    return InitReport(data_dir, manifest, created=True, steps=steps)


def _move_into_place(staging: Path, data_dir: Path) -> None:
    if not data_dir.exists():
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(data_dir)
        return
    # An existing directory (empty, or holding only the user's keystore): fill it.
    for child in staging.iterdir():
        target = data_dir / child.name
        if child.is_dir() and target.is_dir():
            for grandchild in child.iterdir():
                grandchild.rename(target / grandchild.name)
            child.rmdir()
        else:
            child.rename(target)
    staging.rmdir()
