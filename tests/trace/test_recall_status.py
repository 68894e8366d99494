"""Recalls and pack status on chain, as a scan of the resolver shows them (through the index mirror)."""

from __future__ import annotations

import time

from ledger.status import service
from ledger.status.mirror import status_mirror
from ledger.status.subjects import CONTRACT_NAME, PackStatus
from tests.trace.scenario import PACKS, SAUCE_LOT, TOMATO_LOT, key_of

JSON = {"Accept": "application/json"}


def _send(node, party: str, write, **arguments):
    return write(chain=node.ledger.chain, contract=node.ledger.contract(CONTRACT_NAME), sender=node.keys[party],
                 **arguments)


def _status_when(node, key: str, ready) -> dict:
    """The trace's ``status`` once ``ready(status)`` holds (the serve mirror syncs every second)."""
    deadline = time.monotonic() + 15
    while True:
        response = node.http.get(key, headers=JSON)
        assert response.status_code == 200, response.text
        status = response.json()["status"]
        if ready(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_recalled_ingredient_lot_shows_on_the_product_made_from_it(node) -> None:
    tomato, sauce = key_of(TOMATO_LOT), key_of(SAUCE_LOT)
    assert node.http.get(sauce, headers=JSON).json()["status"]["recalls"] == []
    receipt = _send(node, "regulator", service.recall, key=tomato, notice="Salmonella in field 7")
    status = _status_when(node, sauce, lambda s: s["recalls"])
    [recall] = status["recalls"]
    assert recall["key"] == tomato and recall["relation"] == "input"
    assert recall["notice"] == "Salmonella in field 7"
    assert recall["recalledBy"] == node.participant_id("regulator")
    assert recall["recalledByName"] == "Food and Drug Authority"
    assert recall["txHash"] == "0x" + bytes(receipt["transactionHash"]).hex()
    assert status["contract"] == node.ledger.contract(CONTRACT_NAME).address
    assert status["mirroredToBlock"] >= receipt["blockNumber"]
    own = node.http.get(tomato, headers=JSON).json()["status"]["recalls"]
    assert [(r["key"], r["relation"]) for r in own] == [(tomato, "self")]

    _send(node, "regulator", service.withdraw_recall, key=tomato, notice="tests were negative")
    assert _status_when(node, sauce, lambda s: not s["recalls"])["recalls"] == []


def test_a_dispensed_pack_says_so_and_cannot_be_dispensed_twice(node) -> None:
    pack = key_of(PACKS[0])
    _send(node, "pharmacy", service.decommission, key=pack, status=PackStatus.DISPENSED)
    status = _status_when(node, pack, lambda s: s["pack"])
    assert status["pack"]["status"] == "dispensed"
    assert status["pack"]["byName"] == "City Hospital Pharmacy"
    other = node.http.get(key_of(PACKS[1]), headers=JSON).json()["status"]
    assert other["pack"] is None


def test_the_mirror_rebuilds_from_the_chain_alone(node) -> None:
    import sqlalchemy as sa

    mirror = status_mirror(node.ledger)
    mirror.sync()
    with node.ledger.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT * FROM product_status ORDER BY key")).all()
    with node.ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM product_status"))
        conn.execute(sa.text("DELETE FROM product_status_event"))
        conn.execute(sa.text("DELETE FROM contract_cursor WHERE contract = :c"), {"c": mirror.contract.address})
    mirror.sync()
    with node.ledger.engine.connect() as conn:
        after = conn.execute(sa.text("SELECT * FROM product_status ORDER BY key")).all()
    assert after == before and before
