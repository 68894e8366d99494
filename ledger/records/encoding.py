"""How a record becomes a leaf: canonical bytes, then the RFC 9162 leaf hash.

The encoding is versioned and domain-separated so a leaf can never be read
as another kind of record, and so it can change later without ambiguity.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ledger.log.hasher import hash_leaf

RECORD_PREFIX = b"traceledger/record/v1\x00"


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: one text per value.

    orjson writes exactly this form several times faster than the standard
    library, which matters on the capture path; integers beyond 64 bits (which
    orjson refuses) fall back to the standard library's identical output.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_bytes(kind: str, body: str) -> bytes:
    """The bytes a record's leaf commits to. Precondition: ``body`` is canonical JSON."""
    return RECORD_PREFIX + kind.encode("utf-8") + b"\x00" + body.encode("utf-8")


def record_leaf_hash(kind: str, body: str) -> bytes:
    return hash_leaf(record_bytes(kind, body))
