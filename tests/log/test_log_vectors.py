"""RFC 9162 vectors from transparency-dev/merkle (../shared/vectors/rfc9162).

Every file is one case: the happy paths must verify, every mutation (and
every case with ``wantErr``) must raise a ProofError. The happy paths were
made from the RFC 6962 test leaves, so our generated proofs must equal them
too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger.log.errors import ProofError
from ledger.log.hasher import hash_leaf
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.log.verify import verify_consistency, verify_inclusion

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9162"
MISSING_REASON = (
    f"RFC 9162 vectors not found at {VECTORS}; they live next to the repo in "
    "shared/vectors/rfc9162 (transparency-dev/merkle testdata)"
)

# The leaves behind the vectors' trees (RFC 6962 / transparency-dev test data).
RFC6962_TEST_LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]


def _vector_params() -> list:
    if not VECTORS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_REASON), id="missing")]
    files = sorted(path for path in VECTORS.rglob("*") if path.is_file())
    return [pytest.param(path, id=path.relative_to(VECTORS).as_posix()) for path in files]


def _load(path: Path) -> tuple[str, dict]:
    group = path.relative_to(VECTORS).parts[0]
    assert group in ("inclusion", "consistency"), f"unexpected vector group in {path}"
    return group, json.loads(path.read_text())


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(case: dict) -> list[bytes]:
    return [_b64(element) for element in case["proof"] or []]


def _check(group: str, case: dict) -> None:
    if group == "inclusion":
        verify_inclusion(_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _b64(case["root"]))
    else:
        verify_consistency(case["size1"], case["size2"], _proof(case), _b64(case["root1"]), _b64(case["root2"]))


@pytest.mark.parametrize("path", _vector_params())
def test_vector(path: Path) -> None:
    group, case = _load(path)
    if case["wantErr"]:
        with pytest.raises(ProofError):
            _check(group, case)
    else:
        _check(group, case)


def test_vector_folder_holds_both_groups_and_mutations() -> None:
    """Guards against a moved or emptied folder silently shrinking test_vector."""
    if not VECTORS.is_dir():
        pytest.skip(MISSING_REASON)
    cases = [_load(path) for path in VECTORS.rglob("*.json")]
    for group in ("inclusion", "consistency"):
        in_group = [case for name, case in cases if name == group]
        assert any(not case["wantErr"] for case in in_group), f"no valid {group} case"
        assert sum(case["wantErr"] for case in in_group) >= 50, f"few {group} mutations"


def _happy_paths(group: str) -> list:
    if not VECTORS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_REASON), id="missing")]
    paths = sorted((VECTORS / group).glob("*/happy-path.json"))
    return [pytest.param(path, id=path.relative_to(VECTORS).as_posix()) for path in paths]


@pytest.fixture(scope="module")
def rfc6962_log() -> MerkleLog:
    log = MerkleLog(MemoryNodeStore())
    log.append_many(hash_leaf(leaf) for leaf in RFC6962_TEST_LEAVES)
    return log


@pytest.mark.parametrize("path", _happy_paths("inclusion"))
def test_generated_inclusion_proof_equals_vector(path: Path, rfc6962_log: MerkleLog) -> None:
    _, case = _load(path)
    index, size = case["leafIdx"], case["treeSize"]
    assert rfc6962_log.root(size) == _b64(case["root"])
    assert hash_leaf(RFC6962_TEST_LEAVES[index]) == _b64(case["leafHash"])
    assert rfc6962_log.inclusion_proof(index, size) == _proof(case)


@pytest.mark.parametrize("path", _happy_paths("consistency"))
def test_generated_consistency_proof_equals_vector(path: Path, rfc6962_log: MerkleLog) -> None:
    _, case = _load(path)
    size1, size2 = case["size1"], case["size2"]
    assert rfc6962_log.root(size1) == _b64(case["root1"])
    assert rfc6962_log.root(size2) == _b64(case["root2"])
    assert rfc6962_log.consistency_proof(size1, size2) == _proof(case)
