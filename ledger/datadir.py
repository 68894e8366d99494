"""The data directory: what ``traceledger init`` creates and every command opens.

Layout::

    traceledger.json      manifest: chain, contract addresses, service key address
    keystore/admin.json   the service key (keystore v3), unless TRACELEDGER_KEY_FILE
    chain/embedded.sqlite the embedded chain, when no RPC URL is configured
    index.sqlite          the SQL index, when no database URL is configured

The manifest is written last, atomically: a directory without one was never
initialised completely, and a non-empty directory without one is not ours.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import ConfigError

MANIFEST_NAME = "traceledger.json"
MANIFEST_FORMAT = 1


@dataclass
class Manifest:
    chain_kind: str
    chain_id: int
    service_address: str
    contracts: dict[str, str]
    deployed_block: int
    rpc_url: str | None = None
    format: int = MANIFEST_FORMAT
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def write(self, data_dir: Path) -> None:
        path = data_dir / MANIFEST_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def manifest_path(data_dir: Path) -> Path:
    return data_dir / MANIFEST_NAME


def check_ours_or_empty(data_dir: Path) -> None:
    """Refuse to initialise inside a directory that holds something else."""
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"data dir {data_dir} is a file, not a directory")
    if data_dir.is_dir() and not manifest_path(data_dir).exists():
        # Only a keystore the user placed there ahead of init is expected.
        strangers = [p.name for p in data_dir.iterdir() if p.name != "keystore"]
        if strangers:
            raise ConfigError(
                f"{data_dir} is not a traceledger data dir (no {MANIFEST_NAME}, and it holds "
                f"{', '.join(sorted(strangers)[:3])}); choose an empty or new directory"
            )


def read_manifest(data_dir: Path) -> Manifest:
    path = manifest_path(data_dir)
    if not data_dir.is_dir():
        raise ConfigError(f"data dir {data_dir} does not exist; run `traceledger init --data-dir {data_dir}`")
    if not path.is_file():
        raise ConfigError(f"{data_dir} is not a traceledger data dir (no {MANIFEST_NAME}); run `traceledger init` there")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != MANIFEST_FORMAT:
            raise ConfigError(f"{path} has format {raw.get('format')!r}; this traceledger reads format {MANIFEST_FORMAT}")
        return Manifest(**raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is damaged: {exc}") from None
