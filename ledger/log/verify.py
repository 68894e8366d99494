"""Verification of RFC 9162 inclusion and consistency proofs.

Pure functions over bytes and integers: no store, no database, so the
scanner and the auditor can check what the API returns without trusting it.
Each function returns normally when the proof holds and raises a
:class:`~ledger.log.errors.ProofError` subclass otherwise.

Shape of an inclusion path. Walk from leaf ``index`` up to the root of a
tree of ``size`` leaves. At the low levels the leaf's subtree and the last
leaf's subtree (leaf ``size - 1``) are different nodes; there are
``inner = bit_length(index ^ (size - 1))`` such levels and each contributes
one sibling, on the left or the right as the index bit says. Above them the
path runs along the right border of the tree, where a node has a sibling
only on its left, exactly at the levels where ``index`` has a 1 bit; so the
border contributes ``popcount(index >> inner)`` hashes, all left siblings.
The expected proof length follows from (index, size) alone, which is what
binds a proof to one index and one size: the same hashes cannot be replayed
at another position or against another tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.log.errors import InvalidProofError, RootMismatchError
from ledger.log.hasher import HASH_SIZE, hash_children

__all__ = [
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``proof`` leads to from ``leaf_hash``.

    Preconditions, checked (InvalidProofError otherwise): ``0 <= index <
    size``; ``leaf_hash`` and every proof element are 32 bytes; ``proof``
    has exactly the length a leaf at ``index`` in a tree of ``size`` needs.
    Proof elements are ordered from the leaf's level upwards (RFC 9162).
    """
    if not 0 <= index < size:
        raise InvalidProofError(
            f"leaf index {index} is not in a tree of size {size} (valid "
            f"indices are 0..{size - 1}); likely cause: a 1-based index, or "
            "a leaf appended after this checkpoint"
        )
    _require_hash("leaf hash", leaf_hash)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    _require_proof_length(proof, inner + border, f"leaf {index} in a tree of size {size}")

    node = leaf_hash
    for level in range(inner):
        sibling = proof[level]
        if (index >> level) & 1:
            node = hash_children(sibling, node)
        else:
            node = hash_children(node, sibling)
    for sibling in proof[inner:]:
        node = hash_children(sibling, node)
    return node


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that the leaf at ``index`` of the tree of ``size`` leaves with
    root ``root`` has hash ``leaf_hash``.

    Raises InvalidProofError for malformed input (see
    :func:`root_from_inclusion_proof`, plus a root that is not 32 bytes),
    RootMismatchError when the proof leads to another root.
    """
    _require_hash("root", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise RootMismatchError(root, computed)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size2`` leaves with root ``root2`` extends
    the tree of ``size1`` leaves with root ``root1`` (append-only growth).

    Preconditions, checked (InvalidProofError otherwise):
    ``1 <= size1 <= size2``; a consistency proof from the empty tree is
    refused because every tree extends it, so it would prove nothing. When
    ``size1 == size2`` the proof must be empty and the roots equal; they are
    then compared as opaque values, as transparency-dev/merkle and the shared
    RFC 9162 vectors do. Otherwise both roots and all proof elements must be
    32 bytes and the proof must have exactly the length the two sizes imply.

    Raises RootMismatchError (``subject`` "first root" or "second root")
    when the proof does not lead to the given roots.
    """
    if size1 < 1:
        raise InvalidProofError(
            f"consistency from size {size1} proves nothing (every tree "
            "extends the empty tree); likely cause: no earlier checkpoint, "
            "so there is nothing to check against yet"
        )
    if size2 < size1:
        raise InvalidProofError(
            f"size2 {size2} is smaller than size1 {size1}; likely cause: "
            "the checkpoints were passed in the wrong order, or the log "
            "shrank (a rollback)"
        )
    if size1 == size2:
        if proof:
            raise InvalidProofError(
                f"both sizes are {size1}, so the proof must be empty, but it "
                f"has {len(proof)} hashes; likely cause: a proof for another "
                "pair of sizes"
            )
        if root1 != root2:
            raise RootMismatchError(
                root1,
                root2,
                subject="root at equal size",
                likely_cause="two different trees claim the same size: the log was forked or rewritten",
            )
        return
    _require_hash("first root", root1)
    _require_hash("second root", root2)

    # The last perfect subtree of the size1 tree ends at leaf size1 - 1; its
    # node sits at level `shift` (trailing zeros of size1). Its inclusion path
    # in the size2 tree proves both roots at once.
    shift = (size1 & -size1).bit_length() - 1
    node_index = (size1 - 1) >> shift
    inner_from_leaf = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner_from_leaf).bit_count()
    inner = inner_from_leaf - shift

    # When size1 is a power of two, that subtree is the whole size1 tree,
    # whose root the verifier already holds, so the proof omits it.
    path_start = 0 if node_index == 0 else 1
    _require_proof_length(proof, path_start + inner + border, f"consistency from size {size1} to size {size2}")
    seed = root1 if node_index == 0 else proof[0]

    # The size1 root only takes the siblings on the left of the path: the
    # ones on the right cover leaves appended after size1.
    old_root = new_root = seed
    for level in range(inner):
        sibling = proof[path_start + level]
        if (node_index >> level) & 1:
            old_root = hash_children(sibling, old_root)
            new_root = hash_children(sibling, new_root)
        else:
            new_root = hash_children(new_root, sibling)
    for sibling in proof[path_start + inner :]:
        old_root = hash_children(sibling, old_root)
        new_root = hash_children(sibling, new_root)

    if old_root != root1:
        raise RootMismatchError(
            root1,
            old_root,
            subject="first root",
            likely_cause=(
                f"the proof or root1 is not that of the size {size1} tree, or the log rewrote leaves before that size"
            ),
        )
    if new_root != root2:
        raise RootMismatchError(
            root2,
            new_root,
            subject="second root",
            likely_cause=(
                f"the proof or root2 is not that of the size {size2} tree, "
                f"or the size {size2} tree does not extend the size {size1} one"
            ),
        )


def _require_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProofError(
            f"{what} is {len(value)} bytes, a SHA-256 hash has {HASH_SIZE}; "
            "likely cause: a hex or base64 string passed undecoded, or a "
            "truncated value"
        )


def _require_proof_length(proof: Sequence[bytes], expected: int, for_what: str) -> None:
    if len(proof) != expected:
        raise InvalidProofError(
            f"proof has {len(proof)} hashes, {for_what} needs {expected}; "
            "likely cause: a proof made for another index or size, or a "
            "truncated or padded proof"
        )
    for position, element in enumerate(proof):
        if len(element) != HASH_SIZE:
            raise InvalidProofError(
                f"proof hash #{position} is {len(element)} bytes, expected "
                f"{HASH_SIZE}; likely cause: a hex or base64 string passed "
                "undecoded, or a truncated value"
            )
