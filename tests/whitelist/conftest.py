"""Fixtures for the trader whitelist: the deployment with a customs officer,
valid USCCs, entry contents, and a data dir for API and CLI tests."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine

from ledger.chain.base import Chain
from ledger.chain.deploy import OPERATOR_GLN, deploy_contracts, participant_id, role_id
from ledger.gs1 import with_check_digit
from ledger.index.db import open_index
from ledger.whitelist.model import SCOPES, CreditLevel, EntryContent
from ledger.whitelist.service import Whitelist
from ledger.whitelist.uscc import with_check_character

# Real-looking codes (GB 32100-2015): published examples whose check characters verify.
REAL_USCCS = ("91350200776049653A", "91440101MA5CJQ4N59", "913502115628130384", "91350213678251743X")
CUSTOMS_GLN = with_check_digit("952000000777")

OFFSHORE = SCOPES["OFFSHORE_TRADE"]
EXPEDITED = SCOPES["EXPEDITED_CLEARANCE"]
YEAR = 365 * 24 * 3600


def uscc(n: int, region: str = "350200") -> str:
    """The n-th synthetic company code: registration 9 (market regulation), type 1 (enterprise)."""
    return with_check_character(f"91{region}{n:09d}")


def dossier(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def content(code: str, *, level: CreditLevel = CreditLevel.ADVANCED_CERTIFIED, scopes: int = OFFSHORE | EXPEDITED,
            valid_from: int | None = None, valid_until: int | None = None, evidence: str = "dossier v1") -> EntryContent:
    now = int(time.time())
    return EntryContent(code, level, scopes, now - 3600 if valid_from is None else valid_from,
                        now + YEAR if valid_until is None else valid_until, dossier(evidence))


@dataclass
class WhitelistDeployment:
    chain: Chain
    admin: LocalAccount  # operator: ADMIN, ANCHOR and (granted here) CUSTOMS
    officer: LocalAccount  # key of a second customs participant, never funded: signs, never sends
    stranger: LocalAccount  # funded key with no role
    registry: object
    whitelist: Whitelist


def deploy_whitelist(chain: Chain, admin: LocalAccount, stranger: LocalAccount) -> WhitelistDeployment:
    """All contracts as `traceledger init` deploys them; the operator also holds CUSTOMS, and a second
    customs participant's key (the officer) only ever signs."""
    addresses = deploy_contracts(chain, admin)
    registry = chain.contract("ParticipantRegistry", addresses["ParticipantRegistry"])
    chain.transact(registry.functions.grantParticipantRole(participant_id(OPERATOR_GLN), role_id("CUSTOMS")), sender=admin)
    officer = Account.create()
    chain.transact(registry.functions.registerParticipant(
        participant_id(CUSTOMS_GLN), int(CUSTOMS_GLN), "Xiamen Customs", [role_id("CUSTOMS")], [officer.address]),
        sender=admin)
    whitelist = Whitelist(chain, chain.contract("TraderWhitelist", addresses["TraderWhitelist"]))
    return WhitelistDeployment(chain=chain, admin=admin, officer=officer, stranger=stranger, registry=registry,
                               whitelist=whitelist)


@pytest.fixture
def wl(chain: Chain, make_account) -> WhitelistDeployment:
    """The whitelist deployment on the chain under test (embedded and anvil)."""
    return deploy_whitelist(chain, make_account(), make_account())


@pytest.fixture
def embedded_wl(tmp_path: Path) -> Iterator[WhitelistDeployment]:
    """The deployment on the embedded chain only."""
    from ledger.chain.embedded import EmbeddedChain

    admin, stranger = Account.create(), Account.create()
    chain = EmbeddedChain(tmp_path / "embedded.sqlite", funded=[admin.address, stranger.address])
    yield deploy_whitelist(chain, admin, stranger)
    chain.close()


@pytest.fixture
def engine(index_url: str) -> Iterator[Engine]:
    engine = open_index(index_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_index(f"sqlite:///{tmp_path / 'index.sqlite'}")
    yield engine
    engine.dispose()


# -- a data dir (for the API and the CLI) ------------------------------------------------------

PASSWORD = "whitelist test password"


def make_data_dir(tmp_path: Path, *, rpc_url: str | None = None):
    """An initialised data dir whose service key also holds CUSTOMS. Returns its Settings."""
    from ledger.bootstrap import init_data_dir
    from ledger.config import Settings
    from ledger.keystore import create_keystore
    from ledger.runtime import open_ledger
    from tests.support import TEST_SCRYPT_N

    data_dir = tmp_path / "node"
    key = create_keystore(data_dir / "keystore" / "admin.json", PASSWORD, scrypt_n=TEST_SCRYPT_N)
    settings = Settings(data_dir=data_dir, key_password=PASSWORD, anchor_enabled=False, rpc_url=rpc_url)
    if rpc_url:
        from ledger.chain.rpc import RpcChain
        from tests.support import fund

        with RpcChain(rpc_url) as chain:
            fund(chain, key.address)
    init_data_dir(settings)
    with open_ledger(settings) as ledger:
        registry = ledger.contract("ParticipantRegistry")
        ledger.chain.transact(registry.functions.grantParticipantRole(participant_id(OPERATOR_GLN), role_id("CUSTOMS")),
                              sender=ledger.service_account)
    return settings


def whitelist_app(settings):
    """The API app with the whitelist router (mounted here unless api.app already mounts it)."""
    from api import whitelist as whitelist_api
    from api.app import create_app

    app = create_app(settings)
    if not any(getattr(route, "path", "") == "/v1/traders/{uscc}" for route in app.routes):
        app.include_router(whitelist_api.router)
    return app
