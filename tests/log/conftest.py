"""Fixtures for the Merkle log tests: SQL engines holding only the log tables.

PostgreSQL tests are marked ``postgres`` and skip, saying why, when
127.0.0.1:5432 does not answer. Each one gets its own schema, dropped
afterwards, so concurrent runs and other suites sharing the ``test``
database never see each other's rows.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

from ledger.log.models import LogLeaf, LogNode

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_URL = f"postgresql+psycopg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/test"
LOG_TABLES = [LogLeaf.__table__, LogNode.__table__]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs PostgreSQL at 127.0.0.1:5432 (skipped when unreachable)"
    )


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    SQLModel.metadata.create_all(engine, tables=LOG_TABLES)
    yield engine
    engine.dispose()


def _postgres_unreachable_reason() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed, so PostgreSQL cannot be reached"
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=1):
            pass
    except OSError as error:
        return f"PostgreSQL is unreachable at {POSTGRES_HOST}:{POSTGRES_PORT} ({error})"
    return None


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    reason = _postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    schema = f"test_log_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # a server that answers but refuses us
        admin.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} refused to create a test schema: {error}")
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})
    try:
        SQLModel.metadata.create_all(engine, tables=LOG_TABLES)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_engine(request) -> Engine:
    """The log tables on SQLite (a temporary file), then on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")
