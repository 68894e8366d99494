"""The ProductStatus contract on both chains: who may recall, dispense or report, and what a scan reads back."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils import keccak

from ledger.chain.deploy import deploy_contracts, participant_id, role_id
from ledger.gs1 import with_check_digit
from ledger.status import service
from ledger.status.errors import StatusInputError, StatusRefusedError, StatusStateError, StatusUnauthorizedError
from ledger.status.subjects import PackStatus, subject_id, subject_key

LOT = "/01/09521000000346/10/LOT-A"
PACK = "/01/09521000000346/21/SN-1"
OTHER_LOT = "/01/09521000000346/10/LOT-B"
REASON = hashlib.sha256(b"lab report 42").digest()


class Consortium:
    """Deployed contracts and one funded key per role (plus a key nobody registered)."""

    ROLES = ("REGULATOR", "PRODUCER", "MANUFACTURER", "DISPENSER", "DISTRIBUTOR", "RETAILER")

    def __init__(self, chain, make_account) -> None:
        self.chain = chain
        admin = make_account()
        addresses = deploy_contracts(chain, admin)
        self.registry = chain.contract("ParticipantRegistry", addresses["ParticipantRegistry"])
        self.contract = chain.contract("ProductStatus", addresses["ProductStatus"])
        self.keys = {}
        for n, role in enumerate(self.ROLES, start=1):
            gln = with_check_digit(f"95210000{n:04d}")
            self.keys[role] = make_account()
            chain.transact(self.registry.functions.registerParticipant(
                participant_id(gln), int(gln), role.title(), [role_id(role)], [self.keys[role].address]), sender=admin)
            self.keys[role].participant = "0x" + participant_id(gln).hex()
        self.keys["stranger"] = make_account()
        self.admin = admin

    def send(self, who: str, write, **arguments):
        return write(chain=self.chain, contract=self.contract, sender=self.keys[who], **arguments)

    def status(self, key: str) -> service.ChainStatus:
        return service.read_statuses(chain=self.chain, contract=self.contract, keys=[key])[key]


@pytest.fixture
def consortium(chain, make_account) -> Consortium:
    return Consortium(chain, make_account)


def test_a_regulator_recalls_any_lot_and_a_scan_reads_it_back(consortium: Consortium) -> None:
    assert consortium.status(LOT).recalled is False
    receipt = consortium.send("REGULATOR", service.recall, key=LOT, notice="Listeria found", reason_hash=REASON)
    status = consortium.status(LOT)
    assert status.recalled and status.recall_reason_hash == "0x" + REASON.hex()
    assert status.recalled_by == consortium.keys["REGULATOR"].participant
    events = consortium.contract.events.Recalled().process_receipt(receipt)
    assert [e["args"]["key"] for e in events] == [LOT] and events[0]["args"]["notice"] == "Listeria found"
    with pytest.raises(StatusStateError, match="already recalled"):
        consortium.send("REGULATOR", service.recall, key=LOT, notice="again")
    consortium.send("REGULATOR", service.withdraw_recall, key=LOT, notice="lab error")
    assert consortium.status(LOT).recalled is False
    with pytest.raises(StatusStateError, match="no recall to withdraw"):
        consortium.send("REGULATOR", service.withdraw_recall, key=LOT, notice="twice")


def test_a_producer_recalls_only_the_lots_it_registered(consortium: Consortium) -> None:
    consortium.send("PRODUCER", service.register_lot, key=LOT)
    assert consortium.status(LOT).owner == consortium.keys["PRODUCER"].participant
    with pytest.raises(StatusStateError, match="already registered"):
        consortium.send("MANUFACTURER", service.register_lot, key=LOT)
    with pytest.raises(StatusUnauthorizedError, match="only a regulator or the producer that registered"):
        consortium.send("MANUFACTURER", service.recall, key=LOT, notice="not mine")
    with pytest.raises(StatusUnauthorizedError, match="nobody registered it"):
        consortium.send("PRODUCER", service.recall, key=OTHER_LOT, notice="not registered")
    consortium.send("PRODUCER", service.recall, key=LOT, notice="voluntary recall")
    assert consortium.status(LOT).recalled
    with pytest.raises(StatusUnauthorizedError, match="REGULATOR"):
        consortium.send("PRODUCER", service.withdraw_recall, key=LOT, notice="only regulators withdraw")


@pytest.mark.parametrize("who", ["DISPENSER", "RETAILER", "stranger"])
def test_only_a_dispenser_dispenses(consortium: Consortium, who: str) -> None:
    if who != "DISPENSER":
        with pytest.raises(StatusUnauthorizedError, match="DISPENSER"):
            consortium.send(who, service.decommission, key=PACK, status=PackStatus.DISPENSED)
        assert consortium.status(PACK).pack_status is PackStatus.NONE
        return
    consortium.send(who, service.decommission, key=PACK, status=PackStatus.DISPENSED)
    status = consortium.status(PACK)
    assert status.pack_status is PackStatus.DISPENSED and status.decommissioned_at is not None


def test_a_pack_leaves_the_supply_chain_once_the_diversion_signal(consortium: Consortium) -> None:
    consortium.send("DISTRIBUTOR", service.decommission, key=PACK, status=PackStatus.STOLEN)
    with pytest.raises(StatusStateError, match="already reported stolen.*diversion"):
        consortium.send("DISPENSER", service.decommission, key=PACK, status=PackStatus.DISPENSED)
    assert consortium.status(PACK).pack_status is PackStatus.STOLEN
    with pytest.raises(StatusUnauthorizedError):
        consortium.send("RETAILER", service.decommission, key="/01/09521000000346/21/SN-2", status=PackStatus.DESTROYED)


def test_bad_input_is_refused_before_sending(consortium: Consortium) -> None:
    with pytest.raises(StatusInputError, match="^notice:"):
        consortium.send("REGULATOR", service.recall, key=LOT, notice="x" * 257)
    with pytest.raises(StatusInputError, match="^key:"):
        consortium.send("REGULATOR", service.recall, key="/01/09521000000344/10/LOT-A", notice="bad check digit")
    with pytest.raises(StatusInputError, match="^status:"):
        consortium.send("DISPENSER", service.decommission, key=PACK, status=PackStatus.NONE)
    # The contract re-checks: a raw call with an empty notice reverts with a typed error.
    with pytest.raises(StatusRefusedError):
        consortium.chain.transact(consortium.contract.functions.recall(LOT, "", bytes(32)),
                                  sender=consortium.keys["REGULATOR"])


def test_subjects_are_keccak_of_the_canonical_digital_link_path() -> None:
    assert subject_key("https://id.gs1.org/01/09521000000346/10/LOT-A") == LOT
    assert subject_id(LOT) == keccak(LOT.encode())
    assert subject_key("urn:epc:id:sgtin:9521000.000034.SN-1") == PACK
