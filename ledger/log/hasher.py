"""RFC 9162 section 2.1 hashing, SHA-256.

The 0x00 / 0x01 prefixes keep a leaf hash from ever being mistaken for an
interior node hash (second-preimage resistance), so every hash that enters
the tree must come from one of these two functions.
"""

from __future__ import annotations

from hashlib import sha256

HASH_SIZE = 32

EMPTY_ROOT = sha256(b"").digest()
"""Root of the tree with no leaves (RFC 9162: MTH({}) = HASH())."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# Copying a pre-fed hash object saves hashing the prefix again and, unlike
# concatenation, never copies a large leaf payload.
_LEAF_HASH_BASE = sha256(_LEAF_PREFIX)


def hash_leaf(data: bytes) -> bytes:
    """Return SHA256(0x00 || data), the hash of a leaf holding ``data``."""
    digest = _LEAF_HASH_BASE.copy()
    digest.update(data)
    return digest.digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return SHA256(0x01 || left || right), the hash of an interior node.

    Precondition: ``left`` and ``right`` are 32-byte hashes; this hot path
    does not check (callers at trust boundaries do).
    """
    # For 65 bytes, one concatenation is cheaper than two update() calls.
    return sha256(_NODE_PREFIX + left + right).digest()
