"""Shared fixtures: chains (embedded and a real anvil), PostgreSQL, accounts.

Tests that need anvil or PostgreSQL skip with the reason when the service is
missing, except under ``TRACELEDGER_REQUIRE_SERVICES=1`` (set by ``.ci/run``),
where a missing service fails the run instead of hiding behind a skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain.base import Chain
from ledger.chain.deploy import deploy_contracts
from ledger.chain.embedded import EmbeddedChain
from ledger.chain.rpc import RpcChain
from tests.support import FAUCET, POSTGRES_ADMIN_URL, AnvilProcess, anvil_binary, fund, unavailable


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    binary = anvil_binary()
    if binary is None:
        unavailable("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    node = AnvilProcess(binary)
    node.start()
    yield node
    node.stop()


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chain]:
    """The same tests run on the embedded chain and on a real anvil node."""
    if request.param == "embedded":
        adapter: Chain = EmbeddedChain(tmp_path / "chain.sqlite", funded=[FAUCET.address])
    else:
        adapter = RpcChain(request.getfixturevalue("anvil").url)
    yield adapter
    adapter.close()


@pytest.fixture
def make_account(chain: Chain) -> Callable[[], LocalAccount]:
    """Fresh keys, able to pay for gas on the chain under test."""

    def _make() -> LocalAccount:
        account = Account.create()
        fund(chain, account.address)
        return account

    return _make


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {str(exc.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"tl_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The index tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    return request.getfixturevalue("postgres_url")



@dataclass
class Deployment:
    chain: Chain
    admin: LocalAccount
    registry: Contract
    anchor: Contract


@pytest.fixture
def deployment(chain: Chain, make_account) -> Deployment:
    """Fresh registry and anchor; the admin key is also the anchoring key."""
    admin = make_account()
    addresses = deploy_contracts(chain, admin)
    return Deployment(
        chain=chain,
        admin=admin,
        registry=chain.contract("ParticipantRegistry", addresses["ParticipantRegistry"]),
        anchor=chain.contract("CheckpointAnchor", addresses["CheckpointAnchor"]),
    )
