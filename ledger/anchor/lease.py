"""At most one anchorer at a time among the processes sharing an index.

On PostgreSQL the lease is a session-level advisory lock held by a dedicated
connection: if the holder dies, its connection closes and another replica
takes over. On SQLite (one machine) it is an exclusive lock on a file next to
the database.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

ANCHOR_LEASE_LOCK = 7377003  # pg advisory lock id: "the anchorer"


class AnchorLease:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def acquire(self) -> bool:
        """Take the lease if free; True while this process holds it."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            if conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ANCHOR_LEASE_LOCK}).scalar():
                conn.commit()
                self._conn = conn
                return True
            conn.close()
            return False
        database = self.engine.url.database
        path = Path(f"{database}.anchor-lease") if database and database != ":memory:" else None
        if path is None:
            self._file = object()  # an in-memory database has one process by definition
            return True
        handle = open(path, "a")  # noqa: SIM115 (held while the lease is)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ANCHOR_LEASE_LOCK})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            if hasattr(self._file, "close"):
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
            self._file = None
