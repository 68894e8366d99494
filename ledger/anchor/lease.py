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
_HOLDS_LOCK = sa.text(
    "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND granted "
    "AND pid = pg_backend_pid()"
)


class AnchorLease:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def acquire(self) -> bool:
        """Take the lease if free; True while this process holds it.

        On PostgreSQL a held lease is re-checked on every call: if its
        connection died (a database restart, a killed backend) the lock went
        with it and another replica may hold it now, so it is dropped and
        taken again only if free.
        """
        if self._conn is not None and not self._still_held():
            self._drop_connection()
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

    def _still_held(self) -> bool:
        assert self._conn is not None
        try:
            held = self._conn.execute(_HOLDS_LOCK, {"k": ANCHOR_LEASE_LOCK}).scalar()
            self._conn.commit()
        except sa.exc.SQLAlchemyError:
            return False
        return bool(held)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.invalidate()  # never back to the pool: its session is gone or holds nothing
        except sa.exc.SQLAlchemyError:
            pass

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ANCHOR_LEASE_LOCK})
                self._conn.commit()
                self._conn.close()
                self._conn = None
            except sa.exc.SQLAlchemyError:  # the connection died: so did the lock
                self._drop_connection()
        if self._file is not None:
            if hasattr(self._file, "close"):
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
            self._file = None
