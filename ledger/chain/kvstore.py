"""A durable key-value database for py-evm, kept in one SQLite file.

py-evm stores everything (headers, bodies, receipts, state trie nodes) as
opaque key/value pairs. Writes are buffered in memory and made durable by
:meth:`SqliteKV.commit`, which the embedded chain calls once per mined block:
a crash therefore loses at most the block being mined, never half of one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eth.db.backends.base import BaseDB

_DELETED = object()


class SqliteKV(BaseDB):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
        self._pending: dict[bytes, object] = {}

    def __getitem__(self, key: bytes) -> bytes:
        value = self._pending.get(key)
        if value is _DELETED:
            raise KeyError(key)
        if value is not None:
            return value  # type: ignore[return-value]
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def is_empty(self) -> bool:
        return not self._pending and self._conn.execute("SELECT 1 FROM kv LIMIT 1").fetchone() is None

    def commit(self) -> None:
        """Write every buffered change in one SQLite transaction."""
        if not self._pending:
            return
        upserts = [(k, v) for k, v in self._pending.items() if v is not _DELETED]
        deletes = [(k,) for k, v in self._pending.items() if v is _DELETED]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", upserts)
            self._conn.executemany("DELETE FROM kv WHERE key = ?", deletes)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        self._pending.clear()

    def close(self) -> None:
        self._conn.close()
