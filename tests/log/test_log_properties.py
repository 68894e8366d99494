"""Property tests against a naive reference written from RFC 9162 section 2.1.

The reference recurses exactly as the RFC defines MTH, PATH and SUBPROOF
(split at the largest power of two smaller than n); only MTH is memoized
per leaf range, to keep trees of 300 leaves fast.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.log.errors import InvalidProofError, ProofError, RootMismatchError
from ledger.log.hasher import EMPTY_ROOT
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.log.verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

MAX_LEAVES = 300
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class ReferenceTree:
    """RFC 9162 section 2.1, recursively, over a list of leaf *data*."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self._mth: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def _split(n: int) -> int:
        # k: the largest power of two smaller than n (n > 1)
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def leaf_hash(self, index: int) -> bytes:
        return hashlib.sha256(b"\x00" + self.leaves[index]).digest()

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        key = (lo, hi)
        if key not in self._mth:
            n = hi - lo
            if n == 0:
                value = hashlib.sha256(b"").digest()
            elif n == 1:
                value = self.leaf_hash(lo)
            else:
                k = self._split(n)
                value = hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()
            self._mth[key] = value
        return self._mth[key]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi]), m relative to lo."""
        n = hi - lo
        if n == 1:
            return []
        k = self._split(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        """SUBPROOF(m, D[lo:hi], b)."""
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = self._split(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        """PROOF(m, D[n]) for 0 < m <= n."""
        return self.subproof(size1, 0, size2, True)


def _leaves(salt: int, size: int) -> list[bytes]:
    return [salt.to_bytes(8, "big") + index.to_bytes(4, "big") for index in range(size)]


def _build(leaves: list[bytes], chunk_sizes: list[int]) -> MerkleLog:
    """Append the leaves in chunks of the given sizes (cycled), then the rest."""
    reference = ReferenceTree(leaves)
    log = MerkleLog(MemoryNodeStore())
    position, turn = 0, 0
    while position < len(leaves):
        step = chunk_sizes[turn % len(chunk_sizes)]
        log.append_many(reference.leaf_hash(i) for i in range(position, min(position + step, len(leaves))))
        position += step
        turn += 1
    return log


tree_cases = st.tuples(
    st.integers(1, MAX_LEAVES),
    st.integers(0, 2**32),
    st.lists(st.integers(1, 64), min_size=1, max_size=8),
)


@PROPERTY_SETTINGS
@given(tree_cases)
def test_every_root_and_proof_matches_the_reference(case) -> None:
    size, salt, chunk_sizes = case
    reference = ReferenceTree(_leaves(salt, size))
    log = _build(reference.leaves, chunk_sizes)

    assert log.size() == size
    assert log.root(0) == EMPTY_ROOT
    for tree_size in range(1, size + 1):
        assert log.root(tree_size) == reference.mth(0, tree_size)

    root = reference.mth(0, size)
    for index in range(size):
        proof = log.inclusion_proof(index, size)
        assert proof == reference.path(index, 0, size)
        verify_inclusion(reference.leaf_hash(index), index, size, proof, root)

    for size1 in range(1, size + 1):
        proof = log.consistency_proof(size1, size)
        assert proof == (reference.consistency(size1, size) if size1 < size else [])
        verify_consistency(size1, size, proof, reference.mth(0, size1), root)


@PROPERTY_SETTINGS
@given(tree_cases, st.data())
def test_proofs_at_earlier_sizes_match_the_reference(case, data) -> None:
    size, salt, chunk_sizes = case
    reference = ReferenceTree(_leaves(salt, size))
    log = _build(reference.leaves, chunk_sizes)
    size2 = data.draw(st.integers(1, size), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    index = data.draw(st.integers(0, size2 - 1), label="index")

    assert log.inclusion_proof(index, size2) == reference.path(index, 0, size2)
    expected_consistency = reference.consistency(size1, size2) if size1 < size2 else []
    assert log.consistency_proof(size1, size2) == expected_consistency


def _flip_bit(value: bytes, bit: int) -> bytes:
    mutated = bytearray(value)
    mutated[bit // 8] ^= 1 << (bit % 8)
    return bytes(mutated)


INCLUSION_MUTATIONS = [
    "flip-proof",
    "flip-root",
    "flip-leaf",
    "truncate",
    "extend",
    "wrong-index",
    "index-out-of-range",
    "wrong-size",
]


@PROPERTY_SETTINGS
@given(tree_cases, st.sampled_from(INCLUSION_MUTATIONS), st.data())
def test_any_mutated_inclusion_proof_fails(case, mutation, data) -> None:
    size, salt, chunk_sizes = case
    reference = ReferenceTree(_leaves(salt, size))
    log = _build(reference.leaves, chunk_sizes)
    tree_size = data.draw(st.integers(1, size), label="tree_size")
    index = data.draw(st.integers(0, tree_size - 1), label="index")
    leaf, proof, root = reference.leaf_hash(index), log.inclusion_proof(index, tree_size), log.root(tree_size)
    verify_inclusion(leaf, index, tree_size, proof, root)  # the unmutated case holds

    expected_error: type[ProofError] = RootMismatchError
    if mutation == "flip-proof":
        if not proof:
            expected_error, proof = InvalidProofError, [reference.leaf_hash(0)]
        else:
            position = data.draw(st.integers(0, len(proof) - 1), label="position")
            bit = data.draw(st.integers(0, 255), label="bit")
            proof = [*proof[:position], _flip_bit(proof[position], bit), *proof[position + 1 :]]
    elif mutation == "flip-root":
        root = _flip_bit(root, data.draw(st.integers(0, 255), label="bit"))
    elif mutation == "flip-leaf":
        leaf = _flip_bit(leaf, data.draw(st.integers(0, 255), label="bit"))
    elif mutation == "truncate":
        expected_error = InvalidProofError
        if not proof:
            proof = [reference.leaf_hash(0)]  # nothing to cut: pad instead
        else:
            position = data.draw(st.integers(0, len(proof) - 1), label="position")
            proof = [*proof[:position], *proof[position + 1 :]]
    elif mutation == "extend":
        expected_error = InvalidProofError
        position = data.draw(st.integers(0, len(proof)), label="position")
        extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
        proof = [*proof[:position], extra, *proof[position:]]
    elif mutation == "wrong-index":
        if tree_size == 1:
            expected_error, index = InvalidProofError, 1
        else:
            other = data.draw(st.integers(0, tree_size - 2), label="other")
            index = other if other < index else other + 1
            # A wrong index changes the proof shape or the hashing order.
            expected_error = ProofError
    elif mutation == "index-out-of-range":
        expected_error = InvalidProofError
        index = data.draw(st.one_of(st.integers(tree_size, 2 * tree_size), st.integers(-5, -1)), label="index")
    elif mutation == "wrong-size":
        # Checked against the true root of the other size: a verifier always
        # takes size and root together, from one checkpoint.
        expected_error = ProofError
        other_sizes = [s for s in range(index + 1, size + 1) if s != tree_size]
        if not other_sizes:
            tree_size, expected_error = 0, InvalidProofError
        else:
            tree_size = data.draw(st.sampled_from(other_sizes), label="other_size")
            root = log.root(tree_size)

    with pytest.raises(expected_error):
        verify_inclusion(leaf, index, tree_size, proof, root)


CONSISTENCY_MUTATIONS = [
    "flip-proof",
    "flip-root1",
    "flip-root2",
    "truncate",
    "extend",
    "wrong-size1",
    "wrong-size2",
    "swap-roots",
]


@PROPERTY_SETTINGS
@given(tree_cases, st.sampled_from(CONSISTENCY_MUTATIONS), st.data())
def test_any_mutated_consistency_proof_fails(case, mutation, data) -> None:
    size, salt, chunk_sizes = case
    reference = ReferenceTree(_leaves(salt, size))
    log = _build(reference.leaves, chunk_sizes)
    size2 = data.draw(st.integers(1, size), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof, root1, root2 = log.consistency_proof(size1, size2), log.root(size1), log.root(size2)
    verify_consistency(size1, size2, proof, root1, root2)  # the unmutated case holds

    expected_error: type[ProofError] = ProofError
    if mutation == "flip-proof":
        if not proof:
            expected_error, proof = InvalidProofError, [root1]
        else:
            position = data.draw(st.integers(0, len(proof) - 1), label="position")
            bit = data.draw(st.integers(0, 255), label="bit")
            proof = [*proof[:position], _flip_bit(proof[position], bit), *proof[position + 1 :]]
            expected_error = RootMismatchError
    elif mutation == "flip-root1":
        root1 = _flip_bit(root1, data.draw(st.integers(0, 255), label="bit"))
        expected_error = RootMismatchError
    elif mutation == "flip-root2":
        root2 = _flip_bit(root2, data.draw(st.integers(0, 255), label="bit"))
        expected_error = RootMismatchError
    elif mutation == "truncate":
        expected_error = InvalidProofError
        if not proof:
            proof = [root1]  # nothing to cut: pad instead
        else:
            position = data.draw(st.integers(0, len(proof) - 1), label="position")
            proof = [*proof[:position], *proof[position + 1 :]]
    elif mutation == "extend":
        expected_error = InvalidProofError
        position = data.draw(st.integers(0, len(proof)), label="position")
        extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
        proof = [*proof[:position], extra, *proof[position:]]
    elif mutation == "wrong-size1":
        # Against the true root of the other size (size and root travel together).
        other = data.draw(st.integers(0, size2).filter(lambda s: s != size1), label="size1")
        size1, root1 = other, log.root(other)
    elif mutation == "wrong-size2":
        other = data.draw(st.integers(0, 2 * size).filter(lambda s: s != size2), label="size2")
        size2 = other
        root2 = log.root(other) if other <= size else hashlib.sha256(b"beyond").digest()
    elif mutation == "swap-roots":
        if root1 == root2:
            root1 = log.root(size2 - 1) if size2 > 1 else EMPTY_ROOT
        root1, root2 = root2, root1

    with pytest.raises(expected_error):
        verify_consistency(size1, size2, proof, root1, root2)


@PROPERTY_SETTINGS
@given(tree_cases, st.data())
def test_root_from_inclusion_proof_rebuilds_the_true_root(case, data) -> None:
    """It is what verify_inclusion compares, so it must rebuild the true
    root, and refuse a proof of the wrong length before hashing."""
    size, salt, chunk_sizes = case
    reference = ReferenceTree(_leaves(salt, size))
    log = _build(reference.leaves, chunk_sizes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = log.inclusion_proof(index, size)
    assert root_from_inclusion_proof(reference.leaf_hash(index), index, size, proof) == reference.mth(0, size)
    with pytest.raises(InvalidProofError):
        root_from_inclusion_proof(reference.leaf_hash(index), index, size, [*proof, proof[0] if proof else EMPTY_ROOT])


def test_every_proof_at_every_size_up_to_max_leaves_matches_the_reference() -> None:
    """Exhaustive companion of the random tests: one tree of MAX_LEAVES
    leaves, every (index, size) and every (size1, size2) pair."""
    reference = ReferenceTree(_leaves(0x5EED, MAX_LEAVES))
    log = _build(reference.leaves, [1, 2, 3, 5, 8, 13, 21, 34])
    for size in range(1, MAX_LEAVES + 1):
        root = reference.mth(0, size)
        assert log.root(size) == root
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == reference.path(index, 0, size), (index, size)
            verify_inclusion(reference.leaf_hash(index), index, size, proof, root)
        for size1 in range(1, size + 1):
            proof = log.consistency_proof(size1, size)
            assert proof == (reference.consistency(size1, size) if size1 < size else []), (size1, size)
            verify_consistency(size1, size, proof, reference.mth(0, size1), root)
