"""Proof generation over a store of perfect-subtree nodes.

A tree is stored as the hashes of its perfect (complete) subtrees: node id
``(level, index)`` is the hash of leaves ``[index << level, (index + 1) <<
level)``. Such a node never changes once all its leaves exist, so stores
only append, and a node written for a tree of size n serves every later
size too.

A proof, or a root, at any size up to the current one is assembled from
these nodes alone. Where a sibling on the path is incomplete at the
requested size (the "ephemeral" node on the right border), its hash is
recomputed from the perfect subtrees that tile its leaf range. Each function
here first plans every node id it needs from (index, size) arithmetic, then
reads them with ONE ``get_nodes`` call, then hashes.

Sizes are not checked against the store's size here, which would cost a
query: the nodes each function reads always include one covering the last
leaf of the requested tree, so a store asked about a tree larger than its
own raises :class:`~ledger.log.errors.MissingNodeError`, which
:class:`ledger.log.tree.MerkleLog` turns into a TreeSizeError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from ledger.log.errors import TreeSizeError
from ledger.log.hasher import EMPTY_ROOT, hash_children

__all__ = [
    "NodeId",
    "NodeReader",
    "ProofPlan",
    "consistency_plan",
    "consistency_proof",
    "inclusion_plan",
    "inclusion_proof",
    "merge_subtree_roots",
    "root_at",
    "subtree_root_ids",
]

NodeId = tuple[int, int]
"""(level, index): the perfect subtree over leaves [index << level, (index + 1) << level)."""


class NodeReader(Protocol):
    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Return the hashes of ``ids``, in the same order."""
        ...


class ProofPlan(NamedTuple):
    """The node ids a proof needs, in proof order.

    ``node_ids[ephemeral_start:ephemeral_end]`` (possibly empty) are the
    perfect subtrees, left to right, whose merged hash forms one proof
    element: the sibling that is incomplete at the requested size.
    """

    node_ids: list[NodeId]
    ephemeral_start: int = 0
    ephemeral_end: int = 0

    def assemble(self, hashes: list[bytes]) -> list[bytes]:
        """Turn the hashes of ``node_ids`` (same order) into the proof."""
        start, end = self.ephemeral_start, self.ephemeral_end
        if end - start < 2:
            return hashes
        return [*hashes[:start], merge_subtree_roots(hashes[start:end]), *hashes[end:]]


def subtree_root_ids(size: int) -> list[NodeId]:
    """The perfect subtrees tiling leaves [0, size), left to right (largest first).

    There is one per 1 bit of ``size``: for bit ``level`` the subtree ends
    where the higher bits of ``size`` say, at index ``(size >> level) - 1``.
    """
    return [(level, (size >> level) - 1) for level in range(size.bit_length() - 1, -1, -1) if (size >> level) & 1]


def merge_subtree_roots(roots: Sequence[bytes]) -> bytes:
    """Hash of the leaf range tiled by ``roots`` (perfect subtrees, left to
    right, as :func:`subtree_root_ids` lists them).

    RFC 9162 splits a range at its largest power of two, so the rightmost
    (smallest) subtrees are combined first. Precondition: ``roots`` is not
    empty.
    """
    merged = roots[-1]
    for position in range(len(roots) - 2, -1, -1):
        merged = hash_children(roots[position], merged)
    return merged


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Node ids of the inclusion proof for leaf ``index`` in the tree of ``size``.

    Raises TreeSizeError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise TreeSizeError(
            f"leaf index {index} is not in a tree of size {size} (valid "
            f"indices are 0..{size - 1}); likely cause: a 1-based index, or "
            "a leaf appended after this tree size"
        )
    return _path_plan(0, index, size)


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Node ids of the consistency proof from the tree of ``size1`` to that of ``size2``.

    Raises TreeSizeError unless ``1 <= size1 <= size2``: a proof from the
    empty tree would prove nothing (every tree extends it), and the shared
    RFC 9162 vectors treat it as an error. Equal sizes give an empty plan.
    """
    if size1 < 1:
        raise TreeSizeError(
            f"no consistency proof from size {size1}: every tree extends the "
            "empty tree, so there is nothing to prove; start from size >= 1"
        )
    if size2 < size1:
        raise TreeSizeError(f"size2 {size2} is smaller than size1 {size1}; likely cause: the two sizes were swapped")
    if size1 == size2:
        return ProofPlan([])
    # The last perfect subtree of the size1 tree; its path in the size2 tree
    # is the proof (RFC 9162 section 2.1.4.1, SUBPROOF, unrolled).
    shift = (size1 & -size1).bit_length() - 1
    node_index = (size1 - 1) >> shift
    plan = _path_plan(shift, node_index, size2)
    if node_index == 0:
        # size1 is a power of two: the subtree is the size1 tree itself, and
        # the verifier already holds its root.
        return plan
    start, end = plan.ephemeral_start, plan.ephemeral_end
    if end > start:
        start, end = start + 1, end + 1
    return ProofPlan([(shift, node_index), *plan.node_ids], start, end)


def _path_plan(level: int, index: int, size: int) -> ProofPlan:
    """Siblings along the path from node (level, index) to the root of the
    tree of ``size`` leaves, bottom up.

    Precondition: the node is perfect in that tree (``(index + 1) << level
    <= size``).
    """
    # For its first `inner` levels the path and the last leaf are in
    # different subtrees, so every level has a sibling, and the topmost one
    # holds the last leaf (it may be cut by `size`). Above, the path runs
    # along the right border: a sibling exists, on the left, only where the
    # index has a 1 bit (elsewhere the node is promoted unchanged).
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    ids = [(level + offset, (index >> offset) ^ 1) for offset in range(inner - 1)]
    ephemeral_start = ephemeral_end = 0
    if inner:
        fork_level = level + inner - 1
        if size & ((1 << fork_level) - 1):
            # That sibling is cut by `size`: tile [its first leaf, size) with
            # perfect subtrees, one per 1 bit of `size` below its level.
            ephemeral_start = len(ids)
            ids += [(bit, (size >> bit) - 1) for bit in range(fork_level - 1, -1, -1) if (size >> bit) & 1]
            ephemeral_end = len(ids)
        else:
            ids.append((fork_level, (size >> fork_level) - 1))
    border = index >> inner
    offset = inner
    while border:
        if border & 1:
            ids.append((level + offset, (index >> offset) - 1))
        border >>= 1
        offset += 1
    return ProofPlan(ids, ephemeral_start, ephemeral_end)


def inclusion_proof(store: NodeReader, index: int, size: int) -> list[bytes]:
    """Inclusion proof for leaf ``index`` in the tree of ``size`` leaves.

    One ``get_nodes`` call. The leaf itself is read in the same batch,
    so the nodes read always cover leaves [0, size): if the store holds
    fewer than ``size`` leaves, it raises MissingNodeError rather than a
    proof being made for a leaf or size it does not have.
    """
    plan = inclusion_plan(index, size)
    hashes = store.get_nodes([*plan.node_ids, (0, index)])
    hashes.pop()
    return plan.assemble(hashes)


def consistency_proof(store: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Consistency proof from the tree of ``size1`` to the tree of ``size2``.

    One ``get_nodes`` call, none when the sizes are equal (the proof is then
    empty). Otherwise the nodes read, with the subtree the proof starts from,
    cover leaves [0, size2), so a store with fewer than ``size2`` leaves
    raises MissingNodeError.
    """
    plan = consistency_plan(size1, size2)
    if not plan.node_ids:
        return []
    return plan.assemble(store.get_nodes(plan.node_ids))


def root_at(store: NodeReader, size: int) -> bytes:
    """Root of the tree made of the first ``size`` leaves.

    One ``get_nodes`` call for the O(log size) perfect subtree roots, which
    tile leaves [0, size): a store with fewer leaves raises MissingNodeError.
    """
    if size < 0:
        raise TreeSizeError(f"tree size {size} is negative; likely cause: an unset or corrupted size")
    if size == 0:
        return EMPTY_ROOT
    return merge_subtree_roots(store.get_nodes(subtree_root_ids(size)))
