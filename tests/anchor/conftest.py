from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain.base import Chain
from ledger.chain.deploy import deploy_contracts


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
