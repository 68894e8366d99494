"""The committed artifacts must be what the committed sources compile to.

This is the only test that needs a compiler (solc 0.8.30: native, or the npm
solc-js wrapper that `npm ci` installs).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.chain.artifacts import ARTIFACTS_DIR
from ledger.chain.compiler import REPO_ROOT, CompilerError, find_compiler, stale_artifacts

pytestmark = pytest.mark.compiler


@pytest.fixture(scope="module")
def compiler():
    try:
        return find_compiler()
    except CompilerError as exc:
        from tests.support import unavailable

        unavailable(str(exc))


def test_committed_artifacts_match_the_sources(compiler) -> None:
    stale = stale_artifacts(compiler=compiler)
    assert stale == [], f"stale artifacts {stale}: run `traceledger contracts build` and commit"


def test_artifacts_name_their_compiler_and_source() -> None:
    for path in ARTIFACTS_DIR.glob("*.json"):
        artifact = json.loads(path.read_text())
        assert artifact["compiler"]["version"].startswith("0.8.30")
        assert artifact["sourceName"].startswith("contracts/")
        assert artifact["_generated"].startswith("by `traceledger contracts build`")


def test_an_edited_source_without_a_rebuild_is_detected(compiler, tmp_path: Path) -> None:
    """Copy the sources, change one contract, and the same check must flag it."""
    shutil.copytree(REPO_ROOT / "contracts", tmp_path / "contracts")
    (tmp_path / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    target = tmp_path / "contracts" / "CheckpointAnchor.sol"
    target.write_text(target.read_text() + "\n// an innocent-looking edit\n")
    assert "CheckpointAnchor" in stale_artifacts(root=tmp_path, compiler=compiler)
