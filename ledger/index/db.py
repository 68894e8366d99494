"""The SQL index: engine, sessions and migrations for SQLite and PostgreSQL.

SQLite (the default, one file in the data directory) runs in WAL mode so the
API can read while the sequencer writes. PostgreSQL is for production and for
several API replicas. The schema is owned by Alembic: ``open_index`` upgrades
to the newest migration, never ``create_all``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from ledger.errors import IndexStoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_IMMEDIATE = "traceledger_sqlite_immediate"
"""Execution option: begin this SQLite transaction with the write lock held."""


def _safe_url(url: str) -> str:
    """The URL for messages, without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_index_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IndexStoreError(f"database URL {url!r} is not a valid SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise IndexStoreError(f"cannot create the folder of the SQLite index {parsed.database}: {exc.strerror}") from None
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A writer that must read-then-write (the log sequencer) takes the
            # write lock up front, so it waits its turn instead of failing.
            immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (ArgumentError, ImportError) as exc:
        raise IndexStoreError(f"cannot use database URL {_safe_url(url)}: {exc}") from None


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        cause = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        raise IndexStoreError(f"cannot open the index database {_safe_url(str(engine.url))}: {cause}") from None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting together must not both create tables.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7377001)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_index(url: str, *, upgrade: bool = True) -> Engine:
    """Engine for ``url``, reachable and migrated, or an IndexStoreError naming why not."""
    engine = create_index_engine(url)
    check_connection(engine)
    if upgrade:
        migrate(engine)
    return engine


@contextmanager
def write_session(engine: Engine, *, advisory_lock: int | None = None) -> Iterator[Session]:
    """A session for a read-then-write transaction; commits on success.

    On SQLite it begins with the write lock held (``BEGIN IMMEDIATE``), so it
    waits for other writers instead of failing when it upgrades from reading
    to writing. On PostgreSQL, ``advisory_lock`` (if given) is taken for the
    transaction, serialising the writers that share that lock id.
    """
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            if advisory_lock is not None:
                session.connection().execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_lock})
        else:
            session.connection(execution_options={SQLITE_IMMEDIATE: True})
        yield session
