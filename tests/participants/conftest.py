"""Fixtures for the participant registry mirror: a migrated index, an indexer,
and a Ledger over the ``deployment`` fixture for the service functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ledger.config import Settings
from ledger.datadir import Manifest
from ledger.index.db import open_index
from ledger.participants.indexer import RegistryIndexer
from ledger.runtime import Ledger


@pytest.fixture
def engine(index_url: str) -> Iterator[Engine]:
    engine = open_index(index_url)
    yield engine
    engine.dispose()


@pytest.fixture
def indexer(engine: Engine, deployment) -> RegistryIndexer:
    # Small pages, so the tests cross page boundaries.
    return RegistryIndexer(engine, deployment.chain, deployment.registry, start_block=0, page_size=2)


@pytest.fixture
def ledger(deployment, engine: Engine, tmp_path: Path) -> Ledger:
    """A Ledger over the test deployment, its service key already decrypted."""
    chain = deployment.chain
    manifest = Manifest(
        chain_kind=chain.kind,
        chain_id=chain.chain_id,
        service_address=deployment.admin.address,
        contracts={"ParticipantRegistry": deployment.registry.address, "CheckpointAnchor": deployment.anchor.address},
        deployed_block=chain.w3.eth.block_number,
    )
    opened = Ledger(settings=Settings(data_dir=tmp_path / "unused"), manifest=manifest, chain=chain, engine=engine)
    opened.service_account = deployment.admin  # type: ignore[misc] (presets the cached property)
    return opened
