"""Errors of the Merkle log, all under :class:`ledger.errors.LogError`.

Two families:

- :class:`ProofError` and its subclasses: a proof did not verify. Raised by
  the pure functions in :mod:`ledger.log.verify`, so the scanner and the
  auditor see the same types the server does.
- :class:`TreeSizeError`, :class:`MissingNodeError`,
  :class:`AppendConflictError`: the log was asked something it cannot
  answer, or its storage is not in the state the request assumes.
"""

from __future__ import annotations

from ledger.errors import LogError


class ProofError(LogError):
    """A proof failed verification; catch this to handle any proof failure."""

    http_status = 422


class InvalidProofError(ProofError):
    """The proof cannot be checked at all: wrong number of hashes, a hash of
    the wrong length, or an index/size pair that no tree can have.

    Unlike :class:`RootMismatchError` this is decided before any hashing,
    from the shape of the inputs alone.
    """


class RootMismatchError(ProofError):
    """Hashing the proof led to a different root than the one trusted.

    ``expected`` is the root the caller trusts (from a checkpoint), and
    ``computed`` the one the proof leads to; both are kept as bytes so a
    caller can log or compare them, and printed in hex in the message.
    """

    def __init__(
        self,
        expected: bytes,
        computed: bytes,
        *,
        subject: str = "root",
        likely_cause: str = "the leaf, its index, the tree size or a proof hash does not belong to this checkpoint",
    ) -> None:
        self.expected = bytes(expected)
        self.computed = bytes(computed)
        self.subject = subject
        super().__init__(
            f"{subject} mismatch: proof yields {self.computed.hex()}, "
            f"expected {self.expected.hex()}; likely cause: {likely_cause}"
        )


class TreeSizeError(LogError):
    """A requested leaf index or tree size lies outside the tree asked about
    (beyond the log's current size, or an index not below the size)."""

    http_status = 404


class MissingNodeError(LogError):
    """The node store lacks a node that a tree of its size must contain.

    The store's leaves and nodes disagree: nodes were deleted, or rows were
    written without going through :class:`ledger.log.tree.MerkleLog`.
    """

    http_status = 500


class AppendConflictError(LogError):
    """The store already holds a leaf at the index an append was about to
    use: another writer appended since this one read the tree size."""

    http_status = 409
