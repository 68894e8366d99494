"""Compile ``contracts/*.sol`` into the artifacts shipped inside the package.

Only developers run this (``traceledger contracts build``): installing or
running traceledger reads the committed artifacts and never needs a compiler.
The compiler is found in this order, and must be the pinned version so that a
rebuild is byte-for-byte reproducible:

1. ``TRACELEDGER_SOLC`` (a path to a native ``solc``),
2. a ``solc`` installed by py-solc-x, or on ``PATH``, of the pinned version,
3. ``contracts/tools/solcjs``: the npm ``solc`` (solc-js) behind a wrapper that
   speaks ``--version`` and ``--standard-json`` (``npm ci`` installs it).

Imports are resolved here, not by the compiler, so every source (ours and
OpenZeppelin's) is passed inline and covered by the artifact's source hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ledger.chain.artifacts import ARTIFACTS_DIR, Artifact
from ledger.errors import ConfigError

SOLC_VERSION = "0.8.30"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 200

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLCJS_WRAPPER = REPO_ROOT / "contracts" / "tools" / "solcjs"

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*\s+from\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)


class CompilerError(ConfigError):
    """No usable compiler, or the sources do not compile."""


@dataclass(frozen=True)
class Compiler:
    path: Path
    version: str  # full, with commit, e.g. 0.8.30+commit.73712a01


def find_compiler() -> Compiler:
    """Return the first usable compiler of the pinned version (see module doc)."""
    import solcx
    from solcx.exceptions import SolcNotInstalled
    from solcx.install import get_executable

    candidates: list[Path] = []
    if env := os.environ.get("TRACELEDGER_SOLC"):
        candidates.append(Path(env))
    try:
        candidates.append(Path(get_executable(SOLC_VERSION)))
    except SolcNotInstalled:
        pass
    if native := shutil.which("solc"):
        candidates.append(Path(native))
    candidates.append(SOLCJS_WRAPPER)

    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            version = solcx.wrapper.get_solc_version(candidate, with_commit_hash=True)
        except Exception:  # a broken binary is simply not a candidate
            continue
        if version.base_version == SOLC_VERSION:
            return Compiler(candidate, str(version))
    raise CompilerError(
        f"no solc {SOLC_VERSION} found: install one with py-solc-x, set TRACELEDGER_SOLC, "
        f"or run `npm ci` in {REPO_ROOT} for the solc-js wrapper"
    )


def _unit_path(unit: str, root: Path) -> Path:
    """Map a source unit name to its file: ours under contracts/, the rest in node_modules."""
    if unit.startswith("contracts/"):
        return root / unit
    return root / "node_modules" / unit


def collect_sources(root: Path = REPO_ROOT) -> dict[str, str]:
    """Every source unit the project's contracts need, keyed as solc names them.

    Precondition: every ``import`` is either relative or a package path present
    in ``<root>/node_modules`` (e.g. ``@openzeppelin/contracts/...``).
    """
    contracts_dir = root / "contracts"
    roots = sorted(
        f"contracts/{p.relative_to(contracts_dir).as_posix()}"
        for p in contracts_dir.rglob("*.sol")
        if "tools" not in p.relative_to(contracts_dir).parts
    )
    sources: dict[str, str] = {}
    pending = list(roots)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        path = _unit_path(unit, root)
        if not path.is_file():
            raise CompilerError(f"import {unit!r} not found at {path} (run `npm ci`?)")
        text = path.read_text(encoding="utf-8")
        sources[unit] = text
        for target in _IMPORT.findall(text):
            if target.startswith("."):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
            pending.append(target)
    return dict(sorted(sources.items()))


def source_hash(sources: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for unit, text in sorted(sources.items()):
        digest.update(unit.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def standard_input(sources: dict[str, str]) -> dict:
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def compile_contracts(compiler: Compiler | None = None, root: Path = REPO_ROOT) -> list[Artifact]:
    """Compile every contract under ``root/contracts`` and return the artifacts (nothing written)."""
    import solcx

    compiler = compiler or find_compiler()
    sources = collect_sources(root)
    payload = standard_input(sources)
    try:
        output = solcx.compile_standard(payload, solc_binary=compiler.path)
    except solcx.exceptions.SolcError as exc:
        raise CompilerError(f"solc failed: {exc}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilerError("; ".join(e.get("formattedMessage", e["message"]) for e in errors))

    digest = source_hash(sources)
    artifacts = []
    for unit, contracts in sorted(output.get("contracts", {}).items()):
        if not unit.startswith("contracts/"):
            continue
        for name, compiled in sorted(contracts.items()):
            artifacts.append(
                Artifact(
                    contract_name=name,
                    source_name=unit,
                    compiler_version=compiler.version,
                    settings={k: v for k, v in payload["settings"].items() if k != "outputSelection"},
                    source_hash=digest,
                    abi=compiled["abi"],
                    bytecode="0x" + compiled["evm"]["bytecode"]["object"],
                    deployed_bytecode="0x" + compiled["evm"]["deployedBytecode"]["object"],
                )
            )
    return artifacts


def build(out_dir: Path = ARTIFACTS_DIR, compiler: Compiler | None = None) -> list[Path]:
    """Compile and (re)write the artifacts; remove artifacts of deleted contracts."""
    artifacts = compile_contracts(compiler)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for artifact in artifacts:
        path = out_dir / f"{artifact.contract_name}.json"
        path.write_text(json.dumps(artifact.to_json(), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    for stale in set(out_dir.glob("*.json")) - set(written):
        stale.unlink()
    return written


def stale_artifacts(root: Path = REPO_ROOT, out_dir: Path = ARTIFACTS_DIR, compiler: Compiler | None = None) -> list[str]:
    """Names of contracts whose committed artifact differs from a fresh compile.

    A contract added or removed in ``contracts/`` counts as stale too.
    """
    fresh = {a.contract_name: a.to_json() for a in compile_contracts(compiler, root)}
    committed = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out_dir.glob("*.json")}
    return sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
