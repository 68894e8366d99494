"""The recorded scenario of the credit tests: the trace scenario (tests/trace/scenario.py),
then what a credit profile must notice.

- goods: the farm registers its tomato lot on chain (and its next harvest, not
  recorded yet) and a regulator recalls the first
  (imposed; the sauce made from it reached the shop); the drug maker registers
  its lot and recalls it itself (voluntary);
- packs: the pharmacy decommissions the pack it dispensed (consistent); the
  carrier records that same pack a day after it was dispensed (a rescan, and
  its events now contradict the chain); the maker reports another pack
  destroyed and the pharmacy then records it (a rescan after an on-chain
  decommissioning);
- refusals: the shop tries to commission goods (role policy); the carrier
  declares an export claiming expedited clearance for a revoked trader
  (customs); the shop is suspended once and reactivated;
- traders: an AEO trader with a clean history and one declaration, a trader
  that was suspended, downgraded to dishonest and repaired, and a revoked one.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from ledger.chain.deploy import OPERATOR_GLN, participant_id, role_id
from ledger.client import ClientError, epcis_document
from ledger.crossborder import crossborder_document, export_declaration
from ledger.crossborder.sync import sync_whitelist_mirror
from ledger.epcis.build import gtin, item, lot, object_event
from ledger.participants.service import reactivate_participant, suspend_participant
from ledger.status import service as status
from ledger.status.mirror import status_mirror
from ledger.status.subjects import CONTRACT_NAME as STATUS_CONTRACT
from ledger.status.subjects import PackStatus
from ledger.trace.evidence import latest_anchored_checkpoint
from ledger.whitelist.model import SCOPES, CreditLevel, EntryContent
from ledger.whitelist.queries import save_name
from ledger.whitelist.service import Whitelist
from ledger.whitelist.uscc import with_check_character
from tests.trace.scenario import DRUG_LOT, PACKS, TOMATO, TOMATO_LOT, Node, key_of, record_scenario

TEA = gtin("0952200000010")
NEXT_HARVEST = key_of(lot(TOMATO, "HV-2"))
YEAR = 365 * 24 * 3600
TRADERS = {
    "aeo": with_check_character("91350200000000300"),
    "troubled": with_check_character("91350200000000301"),
    "revoked": with_check_character("91350200000000302"),
}
EXTRA_PARTIES = {"customs": ("952100000008", "Harbour Customs", ["CUSTOMS"])}


def dossier(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def content(code: str, level: CreditLevel, scopes: int) -> EntryContent:
    now = int(time.time())
    return EntryContent(code, level, scopes, now - 3600, now + YEAR, dossier(f"dossier {code} {level.name}"))


def chain_time(node: Node) -> datetime:
    block = node.ledger.chain.w3.eth.get_block("latest")
    return datetime.fromtimestamp(block["timestamp"], UTC)


def send_status(node: Node, party: str, write, **arguments) -> None:
    write(chain=node.ledger.chain, contract=node.ledger.contract(STATUS_CONTRACT), sender=node.keys[party], **arguments)


def refuse(node: Node, party: str, document: dict) -> None:
    with pytest.raises(ClientError) as refused:
        node.client(party).capture(document)
    assert refused.value.status == 403, refused.value


def record_goods_and_packs(node: Node) -> None:
    tomato, drug = key_of(TOMATO_LOT), key_of(DRUG_LOT)
    send_status(node, "farm", status.register_lot, key=tomato)
    send_status(node, "regulator", status.recall, key=tomato, notice="Salmonella found in lot HV-1", reason_hash=None)
    send_status(node, "farm", status.register_lot, key=NEXT_HARVEST)  # on chain only, no event yet
    send_status(node, "pharma", status.register_lot, key=drug)
    send_status(node, "pharma", status.recall, key=drug, notice="Label misprint, voluntary recall", reason_hash=None)
    dispensed, destroyed = key_of(PACKS[0]), key_of(PACKS[2])
    send_status(node, "pharmacy", status.decommission, key=dispensed, status=PackStatus.DISPENSED, reason_hash=None)
    send_status(node, "pharma", status.decommission, key=destroyed, status=PackStatus.DESTROYED, reason_hash=None)
    day_after = datetime.fromisoformat("2026-03-02T12:00:00+00:00")
    node.record("carrier", [("dispensed pack seen again", object_event(
        epcs=[PACKS[0]], biz_step="receiving", disposition="in_progress", location=node.gln("carrier"), when=day_after))])
    after_chain = chain_time(node) + timedelta(minutes=5)
    node.record("pharmacy", [("destroyed pack dispensed", object_event(
        epcs=[PACKS[2]], biz_step="dispensing", disposition="dispensed", location=node.gln("pharmacy"),
        when=after_chain))])


def record_refusals(node: Node) -> None:
    refuse(node, "shop", epcis_document([object_event(
        epcs=[item(TEA, "FAKE-1")], action="ADD", biz_step="commissioning", disposition="active",
        location=node.gln("shop"), when=datetime(2026, 3, 3, tzinfo=UTC))]))
    sync_whitelist_mirror(node.ledger)  # capture judges claims from the mirror
    refuse(node, "carrier", crossborder_document([export_declaration(
        declaration="531620260000000099", trader=TRADERS["revoked"], claims=["EXPEDITED_CLEARANCE"],
        epcs=[item(TEA, "EX-99")], exporter=node.gln("carrier"), when=chain_time(node) + timedelta(minutes=5))]))
    suspend_participant(node.ledger, gln=node.gln("shop"))
    reactivate_participant(node.ledger, gln=node.gln("shop"))


def record_traders(node: Node) -> None:
    ledger = node.ledger
    registry = ledger.contract("ParticipantRegistry")
    ledger.chain.transact(registry.functions.grantParticipantRole(participant_id(OPERATOR_GLN), role_id("CUSTOMS")),
                          sender=ledger.service_account)
    whitelist, sender = Whitelist.from_ledger(ledger), ledger.service_account
    both = SCOPES["OFFSHORE_TRADE"] | SCOPES["EXPEDITED_CLEARANCE"]
    whitelist.set_entry(content(TRADERS["aeo"], CreditLevel.ADVANCED_CERTIFIED, both), sender=sender)
    troubled = TRADERS["troubled"]
    whitelist.set_entry(content(troubled, CreditLevel.GENERAL, SCOPES["OFFSHORE_TRADE"]), sender=sender)
    whitelist.suspend(troubled, "late declarations under review", sender=sender)
    whitelist.lift_suspension(troubled, "review closed", sender=sender)
    whitelist.set_entry(content(troubled, CreditLevel.DISHONEST, 0), sender=sender)
    whitelist.repair_credit(troubled, CreditLevel.GENERAL, dossier("rectification report"), sender=sender)
    whitelist.set_entry(content(TRADERS["revoked"], CreditLevel.GENERAL, SCOPES["EXPEDITED_CLEARANCE"]), sender=sender)
    whitelist.revoke(TRADERS["revoked"], "smuggling conviction (case 2026-0420)", sender=sender)
    save_name(ledger.engine, TRADERS["aeo"], "Xiamen Harbour <Trading> & Co.")
    sync_whitelist_mirror(ledger)
    node.client("carrier").capture(crossborder_document([export_declaration(
        declaration="531620260000000001", trader=TRADERS["aeo"], claims=["EXPEDITED_CLEARANCE"],
        epcs=[item(TEA, "EX-1")], exporter=node.gln("carrier"), when=chain_time(node) + timedelta(minutes=5))]))


def wait_anchored(node: Node, timeout: float = 30.0) -> None:
    """Until the whole log is covered by an anchored checkpoint."""
    from ledger.log.sqlstore import SqlNodeStore

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(node.ledger.engine) as session:
            size = SqlNodeStore(session).size()
            checkpoint = latest_anchored_checkpoint(session)
        if checkpoint is not None and checkpoint.tree_size >= size:
            return
        time.sleep(0.05)
    raise TimeoutError("the log was not anchored in time")


def record_credit_scenario(node: Node) -> None:
    record_scenario(node)
    record_traders(node)
    record_goods_and_packs(node)
    record_refusals(node)
    status_mirror(node.ledger).sync()
    sync_whitelist_mirror(node.ledger)
    wait_anchored(node)
