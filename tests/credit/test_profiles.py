"""Credit profiles of the recorded scenario (tests/credit/scenario.py), on SQLite and PostgreSQL:
each fact counted from the index and the chain, each linked to what proves it, and graded by the rules."""

from __future__ import annotations

import pytest

from ledger.credit.rules import load_rules
from ledger.credit.service import credit_profile, credit_profiles
from tests.credit.scenario import NEXT_HARVEST, TRADERS
from tests.trace.scenario import PACKS, TOMATO_LOT, key_of

pytestmark = pytest.mark.anvil


def profile_of(node, who: str) -> dict:
    subject = TRADERS[who] if who in TRADERS else node.participant_id(who)
    return credit_profile(engine=node.ledger.engine, contracts=node.ledger.manifest.contracts, subject_id=subject,
                          rules=load_rules())


def facts(profile: dict) -> dict:
    return {name: fact["value"] for name, fact in profile["facts"].items()}


def kinds(evidence: list[dict]) -> list[str]:
    return [ref["kind"] for ref in evidence]


def factor(profile: dict, rule: str) -> dict:
    found = [f for f in profile["factors"] if f["rule"] == rule]
    assert found, f"{rule} did not hold: {[f['rule'] for f in profile['factors']]}"
    return found[0]


def test_an_imposed_recall_names_the_regulator_and_how_far_the_lot_went(indexed_node) -> None:
    farm = profile_of(indexed_node, "farm")
    assert facts(farm)["recalls.imposed"] == 1 and facts(farm)["recalls.voluntary"] == 0
    recall = farm["facts"]["recalls.imposed"]["items"][0]
    assert recall["key"] == key_of(TOMATO_LOT) and recall["by"] == indexed_node.participant_id("regulator")
    assert recall["notice"] == "Salmonella found in lot HV-1"
    chain_ref = recall["evidence"][0]
    assert chain_ref["kind"] == "transaction" and chain_ref["event"] == "Recalled"
    assert chain_ref["args"] == {"key": key_of(TOMATO_LOT), "participantId": indexed_node.participant_id("regulator")}
    # Downstream: the lot itself at the plant, the sauce made from it at the shop, each cited by the holder's event.
    holders = {ref["claims"]["by"] for ref in recall["evidence"][1:]}
    assert recall["reach"]["goods"] == 1
    assert holders == {indexed_node.participant_id("plant"), indexed_node.participant_id("shop")}
    assert facts(farm)["recalls.max_holders"] == recall["reach"]["holders"] == 2
    assert factor(farm, "P-RECALL-IMPOSED")["effect"] == {"points": -20, "cap": None}


def test_a_voluntary_recall_costs_less_than_an_imposed_one(indexed_node) -> None:
    pharma = profile_of(indexed_node, "pharma")
    assert facts(pharma)["recalls.voluntary"] == 1 and facts(pharma)["recalls.imposed"] == 0
    recall = pharma["facts"]["recalls.voluntary"]["items"][0]
    assert recall["by"] == indexed_node.participant_id("pharma") and recall["imposed"] is False
    # Its packs went to the pharmacy and one on to the carrier.
    assert recall["reach"]["goods"] >= 3 and recall["reach"]["holders"] == 2
    assert factor(pharma, "P-RECALL-VOLUNTARY")["effect"]["points"] == -5


def test_registered_goods_are_the_keys_it_commissioned(indexed_node) -> None:
    pharma = profile_of(indexed_node, "pharma")
    assert facts(pharma)["registered.packs"] == 3
    assert {item["key"] for item in pharma["facts"]["registered.packs"]["items"]} == {key_of(p) for p in PACKS}
    # The lot of the packs (ILMD lotNumber) counts once, although the chain registered it too.
    assert facts(pharma)["registered.lots"] == 1
    ref = pharma["facts"]["registered.packs"]["items"][0]["evidence"][0]
    assert ref["kind"] == "event" and ref["claims"]["bizStep"] == "commissioning"
    assert ref["claims"]["by"] == indexed_node.participant_id("pharma")


def test_a_lot_registered_on_chain_only_is_cited_by_its_transaction(indexed_node) -> None:
    lots = profile_of(indexed_node, "farm")["facts"]["registered.lots"]
    assert (lots["value"], [item["key"] for item in lots["items"]]) == (2, [key_of(TOMATO_LOT), NEXT_HARVEST])
    assert [ref["kind"] for item in lots["items"] for ref in item["evidence"]] == ["event", "transaction"]
    assert lots["items"][1]["evidence"][0]["event"] == "LotRegistered"


def test_a_pack_seen_after_dispensing_counts_against_whoever_recorded_it(indexed_node) -> None:
    carrier = profile_of(indexed_node, "carrier")
    assert facts(carrier)["packs.rescanned_after_dispensing"] == 1
    item = carrier["facts"]["packs.rescanned_after_dispensing"]["items"][0]
    assert item["pack"] == key_of(PACKS[0])
    later, dispensing = item["evidence"]
    assert later["claims"] == {"names": key_of(PACKS[0]), "by": indexed_node.participant_id("carrier")}
    assert dispensing["claims"]["disposition"] == "dispensed"
    assert dispensing["claims"]["by"] == indexed_node.participant_id("pharmacy")
    assert factor(carrier, "P-RESCAN")["effect"]["points"] == -15


def test_recording_a_pack_after_its_on_chain_decommissioning_is_a_rescan(indexed_node) -> None:
    pharmacy = profile_of(indexed_node, "pharmacy")
    # Its own dispensing of the pack it decommissioned itself is not counted; the destroyed one is.
    rescans = pharmacy["facts"]["packs.rescanned_after_dispensing"]["items"]
    assert [item["pack"] for item in rescans] == [key_of(PACKS[2])]
    chain_ref = rescans[0]["evidence"][1]
    assert chain_ref["event"] == "Decommissioned" and chain_ref["args"]["status"] == "destroyed"
    assert chain_ref["args"]["participantId"] == indexed_node.participant_id("pharma")


def test_a_pack_status_that_contradicts_the_events(indexed_node) -> None:
    carrier, pharmacy = profile_of(indexed_node, "carrier"), profile_of(indexed_node, "pharmacy")
    (diverted,) = carrier["facts"]["packs.status_contradictions"]["items"]
    assert (diverted["pack"], diverted["chain"], diverted["events"]) == (key_of(PACKS[0]), "dispensed", "in_progress")
    (destroyed,) = pharmacy["facts"]["packs.status_contradictions"]["items"]
    assert (destroyed["pack"], destroyed["chain"], destroyed["events"]) == (key_of(PACKS[2]), "destroyed", "dispensed")
    assert kinds(destroyed["evidence"]) == ["event", "transaction"]
    assert facts(profile_of(indexed_node, "pharma"))["packs.status_contradictions"] == 0


def test_refused_captures_split_into_role_policy_and_customs(indexed_node) -> None:
    shop, carrier = profile_of(indexed_node, "shop"), profile_of(indexed_node, "carrier")
    assert (facts(shop)["captures.refused_policy"], facts(shop)["captures.refused_customs"]) == (1, 0)
    assert (facts(carrier)["captures.refused_policy"], facts(carrier)["captures.refused_customs"]) == (0, 1)
    refusal = carrier["facts"]["captures.refused_customs"]["items"][0]["evidence"][0]
    assert refusal["kind"] == "refusal" and f"trader {TRADERS['revoked']} may not claim" in refusal["reason"]
    assert "commissioning" in shop["facts"]["captures.refused_policy"]["items"][0]["evidence"][0]["reason"]
    assert facts(shop)["captures.refusal_share"] == 0.5  # one refused, one stored
    assert factor(shop, "P-REFUSAL-SHARE")["effect"] == {"points": 0, "cap": "B"}


def test_registry_suspensions_and_anchoring(indexed_node) -> None:
    shop = profile_of(indexed_node, "shop")
    assert facts(shop)["registry.suspensions"] == 1 and facts(shop)["registry.active"] is True
    suspension = shop["facts"]["registry.suspensions"]["items"][0]["evidence"][0]
    assert suspension["event"] == "ParticipantSuspended" and suspension["contractName"] == "ParticipantRegistry"
    assert facts(shop)["anchoring.share"] == 1.0 and facts(shop)["anchoring.unanchored"] == 0
    assert facts(shop)["anchoring.delay_max_s"] >= facts(shop)["anchoring.delay_p50_s"] >= 0
    assert kinds(shop["facts"]["anchoring.share"]["items"][0]["evidence"]) == ["checkpoint"]


def test_traders_are_graded_from_the_whitelist_and_customs(indexed_node) -> None:
    aeo, troubled, revoked = (profile_of(indexed_node, who) for who in ("aeo", "troubled", "revoked"))
    assert aeo["subject"] == {"kind": "trader", "id": TRADERS["aeo"], "name": "Xiamen Harbour <Trading> & Co.",
                              "uscc": TRADERS["aeo"]}
    assert (aeo["grade"], aeo["factors"], facts(aeo)["customs.declarations"]) == ("A", [], 1)
    assert facts(aeo)["whitelist.level"] == "ADVANCED_CERTIFIED" and facts(aeo)["whitelist.listed"] is True
    declaration = aeo["facts"]["customs.declarations"]["items"][0]["evidence"][0]
    assert declaration["claims"]["trader"] == TRADERS["aeo"]

    t = facts(troubled)
    assert (t["whitelist.suspensions"], t["whitelist.downgrades"], t["whitelist.dishonest_spells"],
            t["whitelist.repairs"], t["whitelist.level"]) == (1, 1, 1, 1, "GENERAL")
    assert {f["rule"] for f in troubled["factors"]} == {"T-GENERAL", "T-SUSPENSIONS", "T-DOWNGRADES",
                                                        "T-DISHONEST-PAST", "T-REPAIRED"}
    assert troubled["score"] == 100 - 10 - 10 - 10 + 5 and troubled["grade"] == "B"
    repair = troubled["facts"]["whitelist.repairs"]["items"][0]["evidence"][0]
    assert repair["event"] == "CreditRepaired" and repair["args"]["uscc"] == TRADERS["troubled"]

    assert (facts(revoked)["whitelist.status"], revoked["grade"]) == ("revoked", "D")
    assert facts(revoked)["customs.refusals"] == 1


def test_the_score_is_the_sum_of_the_factors_and_caps_bound_the_grade(indexed_node) -> None:
    carrier = profile_of(indexed_node, "carrier")
    assert carrier["score"] == 100 + sum(f["effect"]["points"] for f in carrier["factors"])
    assert carrier["score"] == 70  # -15 rescan, -10 contradiction, -5 customs refusal
    assert carrier["grade"] == "B"
    held = {f["rule"] for f in carrier["factors"]}
    assert {c["rule"] for c in carrier["checks"]}.isdisjoint(held)
    assert len(held) + len(carrier["checks"]) == len([r for r in load_rules().rules if r.subject == "participant"])


def test_profiles_in_a_batch_equal_profiles_one_by_one(indexed_node) -> None:
    ledger = indexed_node.ledger
    batch = credit_profiles(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_ids=None,
                            rules=load_rules(), now=1_900_000_000)
    assert len(batch) == 9  # the operator and eight parties
    for profile in batch:
        alone = credit_profile(engine=ledger.engine, contracts=ledger.manifest.contracts,
                               subject_id=profile["subject"]["id"], rules=load_rules(), now=1_900_000_000)
        assert alone == profile
