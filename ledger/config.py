"""Settings, read from ``TRACELEDGER_*`` environment variables (and CLI options).

Where a setting is unset, the data directory decides: the embedded chain and
the SQLite index live inside it, and the keystore is ``<data dir>/keystore``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("traceledger", appauthor=False))


class Settings(BaseSettings):
    """Every knob traceledger reads. Environment variables carry the prefix
    ``TRACELEDGER_`` (e.g. ``TRACELEDGER_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="TRACELEDGER_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Where the keystore, embedded chain and SQLite index live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL of the index; default: SQLite file in the data dir.")
    rpc_url: str | None = Field(None, description="JSON-RPC URL of an EVM node; default: the embedded chain in the data dir.")
    chain_id: int | None = Field(None, description="Refuse to run against a node on another chain.")
    gas_price: int | None = Field(None, description="Fixed legacy gas price in wei (0 on zero-gas Besu); default: ask the node.")
    key_file: Path | None = Field(None, description="Keystore (v3) file of the service key; default: <data dir>/keystore/admin.json.")
    key_password: SecretStr | None = Field(None, description="Password of the keystore file.")
    key_password_file: Path | None = Field(None, description="File holding that password (first line).")
    receipt_timeout: float = Field(60.0, description="Seconds to wait for a transaction receipt.")
    request_timeout: float = Field(10.0, gt=0, description="Seconds to wait for one answer of the JSON-RPC node.")
    anchor_enabled: bool = Field(True, description="Run the background anchorer in `serve` (one replica wins the lease).")
    anchor_max_leaves: int = Field(10_000, ge=1, description="Anchor as soon as this many records wait.")
    anchor_max_delay: float = Field(2.0, gt=0, description="Anchor when the oldest waiting record is this many seconds old.")
    log_format: Literal["text", "json"] = Field("text", description="`serve` logs: `text` for humans, `json` one object per line.")
    ready_max_lag_leaves: int = Field(100_000, ge=1, description="/readyz fails when more records than this wait to be anchored.")
    ready_max_lag_seconds: float = Field(300.0, gt=0, description="/readyz fails when the oldest unanchored record is older (s).")
    ready_chain_timeout: float = Field(1.0, gt=0, description="Seconds /readyz waits for the chain node's block number.")

    @field_validator("data_dir", "key_file", "key_password_file", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def keystore_dir(self) -> Path:
        return self.data_dir / "keystore"

    @property
    def service_key_file(self) -> Path:
        return self.key_file or self.keystore_dir / "admin.json"

    @property
    def embedded_chain_path(self) -> Path:
        return self.data_dir / "chain" / "embedded.sqlite"

    @property
    def index_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'index.sqlite'}"


def describe_invalid_settings(error: ValidationError) -> str:
    """One line naming each bad setting by its environment variable, e.g. for a ValidationError of Settings."""
    problems = []
    for item in error.errors():
        name = "TRACELEDGER_" + "_".join(str(part) for part in item["loc"]).upper()
        problems.append(f"{name}: {item['msg']} (got {item.get('input')!r})")
    return "invalid setting " + "; ".join(problems)
