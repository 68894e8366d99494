"""Compiled contract artifacts, committed inside the package.

Each ``artifacts/<Contract>.json`` carries a header naming the compiler and the
source it came from, so a reader can tell what produced it and the freshness
test can tell whether it still matches ``contracts/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    contract_name: str
    source_name: str
    compiler_version: str
    settings: dict[str, Any]
    source_hash: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    def to_json(self) -> dict[str, Any]:
        return {
            "_generated": (
                f"by `traceledger contracts build` from {self.source_name} "
                f"with solc {self.compiler_version}; do not edit"
            ),
            "contractName": self.contract_name,
            "sourceName": self.source_name,
            "compiler": {"version": self.compiler_version, "settings": self.settings},
            "sourceHash": self.source_hash,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            contract_name=data["contractName"],
            source_name=data["sourceName"],
            compiler_version=data["compiler"]["version"],
            settings=data["compiler"]["settings"],
            source_hash=data["sourceHash"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
        )


@cache
def load_artifact(name: str) -> Artifact:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise ConfigError(
            f"no compiled artifact for contract {name!r} at {path}; "
            "run `traceledger contracts build`"
        )
    return Artifact.from_json(json.loads(path.read_text(encoding="utf-8")))


@cache
def all_artifacts() -> tuple[Artifact, ...]:
    return tuple(load_artifact(p.stem) for p in sorted(ARTIFACTS_DIR.glob("*.json")))
