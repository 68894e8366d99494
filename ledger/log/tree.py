"""The append-only Merkle log over a node store.

:class:`MerkleLog` holds no tree state of its own: every call reads the
store, so two ``MerkleLog`` objects over the same store (or a rolled-back
transaction) can never disagree with it. Appends compute every node that
becomes complete in memory, from the tree's right border, and hand them to
the store in one ``put_nodes`` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NoReturn, Protocol

from ledger.log import proof
from ledger.log.errors import AppendConflictError, MissingNodeError, TreeSizeError
from ledger.log.hasher import HASH_SIZE, hash_children
from ledger.log.proof import NodeId

__all__ = ["MemoryNodeStore", "MerkleLog", "NodeStore"]


class NodeStore(Protocol):
    """Storage of a tree's perfect-subtree nodes; append-only."""

    def size(self) -> int:
        """Number of leaves stored."""
        ...

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Hashes of the nodes ``ids`` ((level, index) pairs, level 0 being
        the leaf hashes), in the same order.

        Raises MissingNodeError if one is absent.
        """
        ...

    def put_nodes(self, first_leaf: int, levels: Sequence[Sequence[bytes]]) -> None:
        """Store the nodes completed by appending leaves from index ``first_leaf``.

        ``levels[0]`` are the new leaf hashes; ``levels[level]`` the nodes of
        that level that became complete, with consecutive indices starting
        at ``first_leaf >> level``. Precondition: ``first_leaf`` equals
        :meth:`size`; raises AppendConflictError if leaf ``first_leaf`` is
        already stored.
        """
        ...


class MerkleLog:
    """An RFC 9162 Merkle log whose nodes live in a :class:`NodeStore`.

    Leaves are 0-based. Proofs and roots can be asked for any size up to the
    current one, so a proof can be made against any earlier checkpoint.
    """

    def __init__(self, store: NodeStore) -> None:
        self.store = store

    def size(self) -> int:
        """Number of leaves in the log."""
        return self.store.size()

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; return its index."""
        return self.append_many((leaf_hash,)).start

    def append_many(self, leaf_hashes: Iterable[bytes]) -> range:
        """Append leaf hashes in order; return the range of their indices.

        Reads the right border of the current tree (one ``get_nodes``),
        computes every node that becomes complete, and writes them with one
        ``put_nodes``. The result equals appending the leaves one at a time.

        Precondition: each leaf hash is 32 bytes (``hash_leaf(record)``);
        ValueError otherwise, before anything is written, since a wrong
        length is a bug in the caller and would corrupt every later root.
        """
        new_leaves = list(leaf_hashes)
        for position, leaf_hash in enumerate(new_leaves):
            if len(leaf_hash) != HASH_SIZE:
                raise ValueError(
                    f"leaf hash #{position} is {len(leaf_hash)} bytes, expected "
                    f"{HASH_SIZE}; pass hash_leaf(record_bytes), not the record"
                )
        old_size = self.store.size()
        if not new_leaves:
            return range(old_size, old_size)
        border_ids = proof.subtree_root_ids(old_size)
        border: dict[int, bytes] = {}
        if border_ids:
            border_hashes = self.store.get_nodes(border_ids)
            border = {level: node for (level, _), node in zip(border_ids, border_hashes)}
        self.store.put_nodes(old_size, _completed_nodes(old_size, new_leaves, border))
        return range(old_size, old_size + len(new_leaves))

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree of the first ``size`` leaves (default: all).

        Raises TreeSizeError unless ``0 <= size <= size()``.
        """
        if size is None:
            return proof.root_at(self.store, self.store.size())
        try:
            return proof.root_at(self.store, size)
        except MissingNodeError:
            self._raise_if_beyond_the_log(size)
            raise

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

        Raises TreeSizeError unless ``0 <= index < size <= size()``.
        """
        try:
            return proof.inclusion_proof(self.store, index, size)
        except MissingNodeError:
            self._raise_if_beyond_the_log(size)
            raise

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size2`` leaves extends that of ``size1``.

        Raises TreeSizeError unless ``1 <= size1 <= size2 <= size()``.
        """
        if size1 == size2:
            # The proof is empty and reads no node, so nothing else would
            # notice a size beyond the log.
            self._raise_if_beyond_the_log(size2)
        try:
            return proof.consistency_proof(self.store, size1, size2)
        except MissingNodeError:
            self._raise_if_beyond_the_log(size2)
            raise

    def _raise_if_beyond_the_log(self, size: int) -> None:
        # Proof functions read nodes covering every leaf below the size asked
        # about, so a size beyond the log shows up as a missing node; reading
        # the store's size only then saves a query on every proof.
        self._require_size(size, self.store.size())

    @staticmethod
    def _require_size(size: int, current: int) -> None:
        if not 0 <= size <= current:
            raise TreeSizeError(
                f"tree size {size} is outside the log, which has {current} "
                "leaves; likely cause: a checkpoint from another log, or a "
                "size not reached yet"
            )


def _completed_nodes(old_size: int, new_leaves: list[bytes], border: dict[int, bytes]) -> list[list[bytes]]:
    """Nodes that become complete when ``new_leaves`` follow ``old_size`` leaves.

    ``border[level]`` is the perfect subtree root of the old tree at that
    level (one per 1 bit of ``old_size``). At each level the new nodes start
    at index ``old_size >> level``; when that index is odd, their first
    parent's left child is the border node of that level.
    """
    levels = [new_leaves]
    nodes = new_leaves
    first = old_size
    level = 0
    while True:
        if first & 1:
            nodes = [border[level], *nodes]
        pairs = iter(nodes)
        parents = [hash_children(left, right) for left, right in zip(pairs, pairs)]
        if not parents:
            return levels
        levels.append(parents)
        nodes = parents
        first >>= 1
        level += 1


class MemoryNodeStore:
    """In-process :class:`NodeStore`: for tests, and for the auditor, which
    rebuilds a tree from the leaves it fetched.

    One list of hashes per level. Reading a node is then a list lookup with
    no copy, and appending stores the digests hashlib already made. Costs
    about 80 bytes per node, so about 160 MB per million leaves.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    def size(self) -> int:
        return len(self._levels[0]) if self._levels else 0

    def get_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        levels = self._levels
        try:
            hashes = [levels[level][index] for level, index in ids]
        except IndexError:
            self._raise_missing(ids)
        # Negative positions would silently count from the end.
        if ids and min(map(min, ids)) < 0:
            self._raise_missing(ids)
        return hashes

    def _raise_missing(self, ids: Sequence[NodeId]) -> NoReturn:
        for level, index in ids:
            held = len(self._levels[level]) if 0 <= level < len(self._levels) else 0
            if not 0 <= index < held:
                raise MissingNodeError(
                    f"node (level {level}, index {index}) is not in this tree of "
                    f"{self.size()} leaves; likely cause: a size beyond the log"
                )
        raise AssertionError("_raise_missing called without a missing node")

    def put_nodes(self, first_leaf: int, levels: Sequence[Sequence[bytes]]) -> None:
        stored = self.size()
        if first_leaf != stored:
            raise AppendConflictError(
                f"append at leaf {first_leaf}, but the store holds {stored} leaves; "
                "likely cause: another writer appended since the size was read"
            )
        for level in range(len(levels)):
            held = len(self._levels[level]) if level < len(self._levels) else 0
            if held != first_leaf >> level:
                raise ValueError(
                    f"nodes of level {level} must start at index {first_leaf >> level}: "
                    "put_nodes expects exactly the nodes completed by the new leaves"
                )
        for level, nodes in enumerate(levels):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].extend(nodes)
