"""The recorded scenario shared by the trace tests (see conftest.py), and its constants.

Farm to table: a tomato lot is harvested and shipped to a plant, turned into
a sauce lot, packed on a pallet (by quantity), shipped to a shop, received
and unpacked there.

Lab to hospital: three drug packs of lot LOT-A are commissioned, packed into
a case, the case onto a pallet; the pallet is shipped, received at the
pharmacy, the case is unpacked, one pack is dispensed, and the pallet (still
holding the empty case) is sent back.

Every event has an explicit time, one minute after the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlmodel import Session

from ledger.client import LedgerClient, epcis_document
from ledger.epcis.build import aggregation_event, gln, gtin, item, lot, object_event, sscc, transformation_event
from ledger.participants.indexer import participant_by_gln
from ledger.runtime import Ledger

PARTIES = {
    "farm": ("952100000001", "Green Valley Farm", ["PRODUCER"]),
    "plant": ("952100000002", "Riverside Foods", ["PROCESSOR"]),
    "carrier": ("952100000003", "Swift Logistics", ["DISTRIBUTOR"]),
    "shop": ("952100000004", "FreshMart Central", ["RETAILER"]),
    "pharma": ("952100000005", "Lab Pharma", ["MANUFACTURER"]),
    "pharmacy": ("952100000006", "City Hospital Pharmacy", ["DISPENSER"]),
    "regulator": ("952100000007", "Food and Drug Authority", ["REGULATOR"]),
}
TOMATO = gtin("0952100000010")
SAUCE = gtin("0952100000027")
DRUG = gtin("0952100000034")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def key_of(uri: str) -> str:
    """Canonical trace key of a https://id.gs1.org/... URI."""
    return uri.removeprefix("https://id.gs1.org")


@dataclass
class Node:
    http: TestClient
    ledger: Ledger
    keys: dict[str, LocalAccount]
    indices: dict[str, int] = field(default_factory=dict)  # scenario step -> log index
    minute: int = 0

    def client(self, party: str) -> LedgerClient:
        return LedgerClient(account=self.keys[party], http=self.http)

    def gln(self, party: str) -> str:
        return gln(PARTIES[party][0])

    def participant_id(self, party: str) -> str:
        with Session(self.ledger.engine) as session:
            info = participant_by_gln(session, self.gln(party))
        assert info is not None
        return info.id

    def location(self, party: str) -> str:
        return f"https://id.gs1.org/414/{self.gln(party)}"

    def when(self) -> datetime:
        self.minute += 1
        return T0 + timedelta(minutes=self.minute)

    def record(self, party: str, steps: list[tuple[str, dict]]) -> None:
        result = node_capture(self, party, [event for _, event in steps])
        for (name, _), outcome in zip(steps, result["events"]):
            self.indices[name] = outcome["logIndex"]


def node_capture(node: Node, party: str, events: list[dict]) -> dict:
    result = node.client(party).capture(epcis_document(events))
    assert result["state"] == "stored", result
    return result


TOMATO_LOT = lot(TOMATO, "HV-1")
SAUCE_LOT = lot(SAUCE, "RS-1")
SAUCE_PALLET = sscc("09521000000000101")
PACKS = [item(DRUG, f"PK{n:04d}") for n in range(1, 4)]
CASE = sscc("09521000000000201")
PALLET = sscc("09521000000000202")
DRUG_LOT = lot(DRUG, "LOT-A")


def record_scenario(node: Node) -> None:
    farm, plant, shop = node.gln("farm"), node.gln("plant"), node.gln("shop")
    node.record("farm", [
        ("harvest", object_event(quantities=[(TOMATO_LOT, 1200, "KGM")], action="ADD", biz_step="commissioning",
                                 disposition="active", location=farm, when=node.when())),
        ("tomato shipped", object_event(quantities=[(TOMATO_LOT, 1200, "KGM")], biz_step="shipping",
                                        disposition="in_transit", location=farm, when=node.when())),
    ])
    node.record("plant", [
        ("tomato received", object_event(quantities=[(TOMATO_LOT, 1200, "KGM")], biz_step="receiving",
                                         disposition="in_progress", location=plant, when=node.when())),
        ("sauce made", transformation_event(inputs=[(TOMATO_LOT, 1200, "KGM")], outputs=[(SAUCE_LOT, 3000, None)],
                                            location=plant, when=node.when())),
        ("sauce palletised", aggregation_event(parent=SAUCE_PALLET, children=[], location=plant, when=node.when(),
                                               childQuantityList=[{"epcClass": SAUCE_LOT, "quantity": 3000}])),
        ("sauce shipped", object_event(epcs=[SAUCE_PALLET], biz_step="shipping", disposition="in_transit",
                                       location=plant, when=node.when())),
    ])
    node.record("shop", [
        ("sauce received", object_event(epcs=[SAUCE_PALLET], biz_step="receiving", disposition="sellable_accessible",
                                        location=shop, when=node.when())),
        ("sauce unpacked", aggregation_event(parent=SAUCE_PALLET, children=[], action="DELETE", biz_step="unpacking",
                                             location=shop, when=node.when())),
    ])

    pharma, pharmacy = node.gln("pharma"), node.gln("pharmacy")
    node.record("pharma", [
        ("packs commissioned", object_event(epcs=PACKS, action="ADD", biz_step="commissioning", disposition="active",
                                            location=pharma, when=node.when(),
                                            ilmd={"cbvmda:lotNumber": "LOT-A", "cbvmda:itemExpirationDate": "2027-01-01"})),
        ("case packed", aggregation_event(parent=CASE, children=PACKS, location=pharma, when=node.when())),
        ("pallet packed", aggregation_event(parent=PALLET, children=[CASE], location=pharma, when=node.when())),
        ("pallet shipped", object_event(epcs=[PALLET], biz_step="shipping", disposition="in_transit", location=pharma,
                                        when=node.when())),
    ])
    node.record("pharmacy", [
        ("pallet received", object_event(epcs=[PALLET], biz_step="receiving", disposition="in_progress",
                                         location=pharmacy, when=node.when())),
        ("case unpacked", aggregation_event(parent=CASE, children=PACKS, action="DELETE", biz_step="unpacking",
                                            location=pharmacy, when=node.when())),
        ("pack dispensed", object_event(epcs=[PACKS[0]], biz_step="dispensing", disposition="dispensed",
                                        location=pharmacy, when=node.when())),
        ("pallet returned", object_event(epcs=[PALLET], biz_step="shipping", disposition="in_transit",
                                         location=pharmacy, when=node.when())),
    ])
