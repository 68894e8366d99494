"""MerkleLog over MemoryNodeStore: batching, bounds, errors, hashing constants."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError, LogError
from ledger.log.errors import (
    AppendConflictError,
    InvalidProofError,
    MissingNodeError,
    ProofError,
    RootMismatchError,
    TreeSizeError,
)
from ledger.log.hasher import EMPTY_ROOT, hash_children, hash_leaf
from ledger.log.proof import NodeId
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.log.verify import verify_consistency, verify_inclusion


def _leaf_hashes(count: int, start: int = 0) -> list[bytes]:
    return [hash_leaf(index.to_bytes(4, "big")) for index in range(start, start + count)]


def _all_node_ids(size: int) -> list[NodeId]:
    """Every perfect subtree of a tree of ``size`` leaves, level 0 included."""
    ids = []
    level = 0
    while size >> level:
        ids.extend((level, index) for index in range(size >> level))
        level += 1
    return ids


def test_hashes_are_rfc9162_sha256() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hash_leaf(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert hash_leaf(b"record") == hashlib.sha256(b"\x00record").digest()
    left, right = hash_leaf(b"l"), hash_leaf(b"r")
    assert hash_children(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert hash_leaf(memoryview(b"record")) == hash_leaf(b"record")


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 200),
    st.lists(st.integers(0, 70), min_size=1, max_size=12),
)
def test_append_many_equals_appending_one_by_one(initial: int, batch_sizes: list[int]) -> None:
    one_by_one, batched = MerkleLog(MemoryNodeStore()), MerkleLog(MemoryNodeStore())
    leaves = _leaf_hashes(initial + sum(batch_sizes))
    for leaf in leaves[:initial]:
        one_by_one.append(leaf)
    batched.append_many(leaves[:initial])
    position = initial
    for batch_size in batch_sizes:
        batch = leaves[position : position + batch_size]
        assert [one_by_one.append(leaf) for leaf in batch] == list(range(position, position + batch_size))
        assert batched.append_many(batch) == range(position, position + batch_size)
        position += batch_size

    size = len(leaves)
    assert batched.size() == one_by_one.size() == size
    node_ids = _all_node_ids(size)
    assert batched.store.get_nodes(node_ids) == one_by_one.store.get_nodes(node_ids)
    assert batched.store.get_nodes([(0, index) for index in range(size)]) == leaves
    assert batched.root() == one_by_one.root()


def test_empty_log() -> None:
    log = MerkleLog(MemoryNodeStore())
    assert log.size() == 0
    assert log.root() == EMPTY_ROOT == log.root(0)
    assert log.append_many([]) == range(0)
    assert log.size() == 0
    with pytest.raises(TreeSizeError):
        log.inclusion_proof(0, 0)


def test_single_leaf_log() -> None:
    log = MerkleLog(MemoryNodeStore())
    leaf = hash_leaf(b"only")
    assert log.append(leaf) == 0
    assert log.root() == leaf
    assert log.inclusion_proof(0, 1) == []
    assert log.consistency_proof(1, 1) == []
    verify_inclusion(leaf, 0, 1, [], log.root())


def test_proofs_against_an_earlier_checkpoint_still_verify_after_growth() -> None:
    log = MerkleLog(MemoryNodeStore())
    leaves = _leaf_hashes(1000)
    log.append_many(leaves[:613])
    checkpoint_size, checkpoint_root = log.size(), log.root()
    log.append_many(leaves[613:])

    assert log.root(checkpoint_size) == checkpoint_root
    for index in (0, 1, 511, 512, 600, 612):
        verify_inclusion(
            leaves[index], index, checkpoint_size, log.inclusion_proof(index, checkpoint_size), checkpoint_root
        )
    verify_consistency(checkpoint_size, 1000, log.consistency_proof(checkpoint_size, 1000), checkpoint_root, log.root())


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("root", (11,)),
        ("root", (-1,)),
        ("inclusion_proof", (10, 10)),
        ("inclusion_proof", (-1, 10)),
        ("inclusion_proof", (3, 11)),
        ("consistency_proof", (0, 10)),
        ("consistency_proof", (5, 4)),
        ("consistency_proof", (5, 11)),
    ],
)
def test_requests_outside_the_tree_raise_tree_size_error(call: str, args: tuple[int, ...]) -> None:
    log = MerkleLog(MemoryNodeStore())
    log.append_many(_leaf_hashes(10))
    with pytest.raises(TreeSizeError) as raised:
        getattr(log, call)(*args)
    assert isinstance(raised.value, LogError)
    assert "likely cause" in str(raised.value) or "nothing to prove" in str(raised.value)


def test_a_proof_is_never_made_for_a_leaf_the_log_does_not_have() -> None:
    # In a tree of 8 leaves, every node leaf 8's proof at size 9 needs exists
    # (only the subtree of leaves 0..7); the leaf itself does not.
    log = MerkleLog(MemoryNodeStore())
    log.append_many(_leaf_hashes(8))
    with pytest.raises(TreeSizeError):
        log.inclusion_proof(8, 9)
    with pytest.raises(TreeSizeError):
        log.consistency_proof(8, 9)
    with pytest.raises(TreeSizeError):
        log.consistency_proof(9, 9)


@pytest.mark.parametrize("bad_leaf", [b"", b"\x00" * 31, b"\x00" * 33, "ab" * 32])
def test_a_leaf_hash_of_the_wrong_length_is_refused_before_anything_is_written(bad_leaf) -> None:
    log = MerkleLog(MemoryNodeStore())
    log.append_many(_leaf_hashes(3))
    root = log.root()
    with pytest.raises(ValueError, match="expected 32"):
        log.append_many([hash_leaf(b"fine"), bad_leaf])
    assert log.size() == 3
    assert log.root() == root


def test_memory_store_refuses_unknown_nodes_and_stale_appends() -> None:
    store = MemoryNodeStore()
    MerkleLog(store).append_many(_leaf_hashes(5))
    with pytest.raises(MissingNodeError):
        store.get_nodes([(0, 5)])
    with pytest.raises(MissingNodeError):
        store.get_nodes([(2, 1)])  # leaves 4..7: incomplete, so never stored
    with pytest.raises(MissingNodeError):
        store.get_nodes([(-1, 0)])
    with pytest.raises(AppendConflictError):
        store.put_nodes(4, [[hash_leaf(b"late")]])
    assert store.size() == 5


def test_root_mismatch_error_carries_both_roots() -> None:
    expected, computed = hash_leaf(b"a"), hash_leaf(b"b")
    error = RootMismatchError(expected, computed)
    assert (error.expected, error.computed) == (expected, computed)
    assert expected.hex() in str(error) and computed.hex() in str(error)
    assert "likely cause" in str(error)
    assert isinstance(error, ProofError) and isinstance(error, LogError) and isinstance(error, LedgerError)


def test_verification_errors_say_what_is_wrong() -> None:
    log = MerkleLog(MemoryNodeStore())
    leaves = _leaf_hashes(8)
    log.append_many(leaves)
    proof = log.inclusion_proof(5, 8)

    with pytest.raises(InvalidProofError, match="proof has 2 hashes, leaf 5 in a tree of size 8 needs 3"):
        verify_inclusion(leaves[5], 5, 8, proof[:2], log.root())
    with pytest.raises(InvalidProofError, match="64 bytes"):
        verify_inclusion(leaves[5], 5, 8, proof, log.root().hex().encode())
    with pytest.raises(RootMismatchError) as raised:
        verify_inclusion(leaves[5], 5, 8, proof, log.root(7))
    assert raised.value.expected == log.root(7)
    assert raised.value.computed == log.root(8)
    with pytest.raises(InvalidProofError, match="proves nothing"):
        verify_consistency(0, 8, [], EMPTY_ROOT, log.root())
    with pytest.raises(RootMismatchError, match="first root"):
        verify_consistency(3, 8, log.consistency_proof(3, 8), log.root(4), log.root())
