"""The index opens, migrates (idempotently) and names the cause when it cannot."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger.errors import IndexStoreError
from ledger.index.db import create_index_engine, open_index
from ledger.index.models import metadata


def test_migrations_create_every_table_and_rerun_cleanly(index_url) -> None:
    engine = open_index(index_url)
    engine.dispose()
    engine = open_index(index_url)  # a second start changes nothing and does not fail
    tables = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    with engine.connect() as conn:
        heads = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(heads) == 1
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = open_index(f"sqlite:///{tmp_path / 'i.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize("url, fragment", [
    ("not a url", "not a valid SQLAlchemy URL"),
    ("postgresql://nobody@127.0.0.1:9/none", "cannot open the index database"),
    ("sqlite:////proc/forbidden/x.sqlite", "cannot"),
])
def test_unusable_urls_are_clear_errors(url: str, fragment: str) -> None:
    with pytest.raises(IndexStoreError, match=fragment):
        open_index(url)


def test_passwords_never_appear_in_messages() -> None:
    with pytest.raises(IndexStoreError) as info:
        open_index("postgresql://user:s3cret@127.0.0.1:9/db")
    assert "s3cret" not in str(info.value)
    create_index_engine("sqlite://").dispose()
