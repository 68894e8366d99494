"""A served ledger with one participant per role, each with its own key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.client import LedgerClient
from ledger.config import Settings
from ledger.epcis.build import gln
from ledger.participants.service import register_participant
from ledger.runtime import Ledger

PARTIES = {
    "farm": ("952100000001", "Green Valley Farm", ["PRODUCER"]),
    "plant": ("952100000002", "Riverside Foods", ["PROCESSOR"]),
    "carrier": ("952100000003", "Swift Logistics", ["DISTRIBUTOR"]),
    "pharma": ("952100000004", "Lab Pharma", ["MANUFACTURER"]),
    "pharmacy": ("952100000005", "City Hospital Pharmacy", ["DISPENSER"]),
    "regulator": ("952100000006", "Food and Drug Authority", ["REGULATOR"]),
    "customs": ("952100000007", "Harbour Customs", ["CUSTOMS"]),
}


@dataclass
class Node:
    http: TestClient
    ledger: Ledger
    keys: dict[str, LocalAccount]

    def client(self, party: str) -> LedgerClient:
        return LedgerClient(account=self.keys[party], http=self.http)

    def gln(self, party: str) -> str:
        return gln(PARTIES[party][0])


@pytest.fixture
def node(tmp_path) -> Node:
    settings = Settings(data_dir=tmp_path / "node", key_password="pw", anchor_max_delay=0.2)
    init_data_dir(settings)
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        keys = {}
        for party, (gln_body, name, roles) in PARTIES.items():
            keys[party] = Account.create()
            register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
        yield Node(http, ledger, keys)
