"""A served ledger with the credit scenario (tests/credit/scenario.py) recorded, one per module.

The chain is a real anvil node (the scenario sends some thirty transactions:
seconds on anvil, a quarter of a minute on the embedded chain), so the CLI
can verify against the same node while the app runs; the index is SQLite,
and PostgreSQL too where a module asks for ``database_url``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.chain.rpc import RpcChain
from ledger.config import Settings
from ledger.epcis.build import gln
from ledger.keystore import create_keystore
from ledger.participants.service import register_participant
from tests.credit.scenario import EXTRA_PARTIES, record_credit_scenario
from tests.support import TEST_SCRYPT_N, fund
from tests.trace.conftest import database_url  # noqa: F401  (SQLite, and PostgreSQL when reachable)
from tests.trace.scenario import PARTIES, Node

PASSWORD = "credit test password"


def credit_node(tmp_path_factory, anvil, database: str | None) -> Iterator[Node]:
    """A data dir on ``anvil`` (index: ``database``, None for SQLite), served, with the scenario recorded."""
    data_dir = tmp_path_factory.mktemp("credit") / "node"
    service_key = create_keystore(data_dir / "keystore" / "admin.json", PASSWORD, scrypt_n=TEST_SCRYPT_N)
    with RpcChain(anvil.url) as chain:
        fund(chain, service_key.address)
    settings = Settings(data_dir=data_dir, key_password=PASSWORD, anchor_max_delay=0.2, rpc_url=anvil.url,
                        database_url=database)
    init_data_dir(settings)
    app = create_app(settings)
    with TestClient(app) as http:
        ledger = http.app.state.ledger
        keys = {}
        for party, (gln_body, name, roles) in {**PARTIES, **EXTRA_PARTIES}.items():
            keys[party] = Account.create()
            fund(ledger.chain, keys[party].address)
            register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
        node = Node(http, ledger, keys)
        record_credit_scenario(node)
        yield node


@pytest.fixture(scope="module")
def node(tmp_path_factory, anvil) -> Iterator[Node]:
    """The scenario on SQLite."""
    yield from credit_node(tmp_path_factory, anvil, None)


@pytest.fixture(scope="module")
def indexed_node(tmp_path_factory, anvil, database_url: str | None) -> Iterator[Node]:  # noqa: F811  (the fixture imported above)
    """The scenario on SQLite and on PostgreSQL."""
    yield from credit_node(tmp_path_factory, anvil, database_url)
