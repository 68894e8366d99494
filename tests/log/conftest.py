"""Fixtures for the Merkle log tests: SQL engines holding only the log tables.

PostgreSQL tests are marked ``postgres`` and skip, saying why, when the
server does not answer (127.0.0.1:5432, database ``test``, or
TRACELEDGER_TEST_POSTGRES_URL; with TRACELEDGER_REQUIRE_SERVICES=1 they fail
instead, as the rest of the suite does). Each test gets its own schema,
dropped afterwards, so concurrent runs and other suites sharing the
database never see each other's rows.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from ledger.log.models import LogLeaf, LogNode

POSTGRES_URL = os.environ.get("TRACELEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("TRACELEDGER_REQUIRE_SERVICES") == "1"
LOG_TABLES = [LogLeaf.__table__, LogNode.__table__]


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    SQLModel.metadata.create_all(engine, tables=LOG_TABLES)
    yield engine
    engine.dispose()


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def _postgres_unreachable_reason() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed, so PostgreSQL cannot be reached"
    url = make_url(POSTGRES_URL)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError as error:
        return f"PostgreSQL is unreachable at {host}:{port} ({error})"
    return None


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    reason = _postgres_unreachable_reason()
    if reason:
        _unavailable(reason)
    schema = f"test_log_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except DBAPIError as error:  # a server that answers but refuses us
        admin.dispose()
        _unavailable(f"PostgreSQL at {POSTGRES_URL} refused to create a test schema: {error}")
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
