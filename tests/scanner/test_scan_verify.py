"""The scanner's independent verification (scanner.verify) of what a real served API answers, honest or lying.

One served ledger per module and chain (embedded, and anvil under the
``anvil`` marker) records the shared trace scenario (tests/trace/scenario.py),
then the regulator recalls the drug lot and the pharmacy dispenses pack 1
on chain. Anchoring is manual, so "not anchored yet" is a state the tests
choose rather than a race. Each lie is served through an httpx MockTransport
that rewrites the real server's JSON on its way to the scanner.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.anchor.service import Anchorer
from ledger.capture.signing import SigningDomain
from ledger.chain.rpc import RpcChain
from ledger.epcis.build import gln, item, object_event
from ledger.epcis.hashid import event_hash_id
from ledger.epcis.identifiers import parse_digital_link
from ledger.errors import ConfigError
from ledger.participants.service import register_participant
from ledger.records.encoding import canonical_json, record_leaf_hash
from ledger.status import service as status_service
from ledger.status.subjects import CONTRACT_NAME, PackStatus
from scanner.fetch import TraceApi
from scanner.verify import ChainReader, TrustedContracts, Verdict, verify_trace
from tests.support import fund
from tests.trace.scenario import DRUG, DRUG_LOT, PACKS, PARTIES, SAUCE_LOT, Node, key_of, node_capture, record_scenario
from tests.whitelist.conftest import make_data_dir

NOTICE = "Sterility failure in lot LOT-A: do not use"
PACK = key_of(PACKS[0])
LOT = key_of(DRUG_LOT)
Rewrite = Callable[[Any], Any]
JSON = {"Accept": "application/json"}


@dataclass
class Served:
    node: Node

    def anchor_now(self) -> None:
        ledger = self.node.ledger
        Anchorer(engine=ledger.engine, chain=ledger.chain, anchor=ledger.contract("CheckpointAnchor"),
                 sender=ledger.service_account).anchor_once(force=True)

    def reader(self, **overrides: Any) -> ChainReader:
        """A chain reader trusting the data dir's manifest, as ``traceledger scan --data-dir`` does."""
        manifest = self.node.ledger.manifest
        trusted = {"anchor": manifest.contracts["CheckpointAnchor"], "status": manifest.contracts[CONTRACT_NAME],
                   "chain_id": manifest.chain_id, "registry": manifest.contracts["ParticipantRegistry"],
                   "from_block": manifest.deployed_block} | overrides
        return ChainReader(self.node.ledger.chain, TrustedContracts(**trusted))

    def scan(self, key: str, rewrite: Rewrite | None = None, *, evidence: Rewrite | None = None) -> Verdict:
        """Scan ``key`` through an API whose trace answers pass through ``rewrite``, evidence through ``evidence``."""
        transport = httpx.MockTransport(self._relay(rewrite, evidence))
        with httpx.Client(base_url="http://scanned.test", transport=transport) as http:
            api = TraceApi(http=http)
            identifier = parse_digital_link(key)
            return verify_trace(api.trace(identifier), scanned_key=identifier.canonical, chain=self.reader(),
                                evidence=api.record_evidence)

    def _relay(self, rewrite: Rewrite | None, evidence: Rewrite | None) -> Callable[[httpx.Request], httpx.Response]:
        def relay(request: httpx.Request) -> httpx.Response:
            answer = self.node.http.get(request.url.raw_path.decode("ascii"), headers=JSON)
            change = evidence if request.url.path.startswith("/v1/records/") else rewrite
            if change is None or answer.status_code != 200:
                return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)
            return httpx.Response(200, json=change(copy.deepcopy(answer.json())))

        return relay


def _wait_until(node: Node, key: str, ready: Callable[[dict], bool]) -> None:
    """Until the API's trace of ``key`` satisfies ``ready``: its status mirror syncs every second, and
    a trace may show the previous checkpoint for half a second after a new one is anchored."""
    deadline = time.monotonic() + 20
    while not ready(node.http.get(key, headers=JSON).json()):
        assert time.monotonic() < deadline, f"the API's trace of {key} did not catch up with the chain within 20 s"
        time.sleep(0.1)


def _all_anchored(trace: dict) -> bool:
    return all(event["anchored"] for event in trace["events"])


@pytest.fixture(scope="module", params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    rpc_url = request.getfixturevalue("anvil").url if request.param == "anvil" else None
    settings = make_data_dir(tmp_path_factory.mktemp("scan"), rpc_url=rpc_url)
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        keys = {party: Account.create() for party in PARTIES}
        for party, (gln_body, name, roles) in PARTIES.items():
            register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
            if isinstance(ledger.chain, RpcChain):
                fund(ledger.chain, keys[party].address)  # gas for their own status transactions
        node = Node(http, ledger, keys)
        record_scenario(node)
        status = ledger.contract(CONTRACT_NAME)
        status_service.recall(chain=ledger.chain, contract=status, sender=keys["regulator"], key=LOT, notice=NOTICE)
        status_service.decommission(chain=ledger.chain, contract=status, sender=keys["pharmacy"], key=PACK,
                                    status=PackStatus.DISPENSED)
        served = Served(node)
        served.anchor_now()
        _wait_until(node, PACK, lambda trace: _all_anchored(trace) and bool(trace["status"]["recalls"])
                    and trace["status"]["pack"] is not None)
        yield served


# --- honest answers --------------------------------------------------------------------------------


def test_an_honest_trace_is_verified_with_the_chains_recall_and_pack_status(served: Served) -> None:
    verdict = served.scan(PACK)
    assert verdict.status == "VERIFIED", verdict.reason
    assert verdict.headline == "VERIFIED — RECALLED, DISPENSED"
    assert {check.name: check.outcome for check in verdict.checks} == dict.fromkeys(
        ("subject", "events", "inclusion", "checkpoint", "signatures", "actors", "status", "anchoring"), "pass")
    recall, dispensed = verdict.warnings
    assert (recall.kind, recall.key, recall.relation, recall.notice) == ("recalled", LOT, "lot", NOTICE)
    assert recall.by_name == "Food and Drug Authority"
    assert (dispensed.kind, dispensed.key, dispensed.by_name) == ("dispensed", PACK, "City Hospital Pharmacy")
    journey = [(step.step, step.place, step.actor) for step in verdict.journey]
    assert journey[0] == ("commissioning", "Lab Pharma", "Lab Pharma")
    assert journey[-1] == ("dispensing", "City Hospital Pharmacy", "City Hospital Pharmacy")
    assert [step.log_index for step in verdict.journey] == sorted(step.log_index for step in verdict.journey)
    assert verdict.checkpoint is not None and verdict.checkpoint.tree_size > max(s.log_index for s in verdict.journey)


def test_a_product_made_from_an_input_lot_is_verified_without_warnings(served: Served) -> None:
    verdict = served.scan(key_of(SAUCE_LOT))
    assert verdict.headline == "VERIFIED" and verdict.warnings == ()
    assert {step.relation for step in verdict.journey} == {"self", "input", "container"}
    input_actors = {step.actor for step in verdict.journey if step.relation == "input"}
    assert input_actors == {"Green Valley Farm", "Riverside Foods"}


# --- lies ------------------------------------------------------------------------------------------


def _event(trace: dict, step: str) -> dict:
    return next(event for event in trace["events"] if event["bizStep"] == step)


def _retime_served_event(trace: dict, _served: Served) -> dict:
    """The API says the pack was dispensed a year later than the pharmacy signed."""
    event = _event(trace, "dispensing")
    event["event"]["eventTime"] = event["eventTime"] = "2027-03-01T08:15:00.000Z"
    return trace


def _rewrite_record_consistently(trace: dict, _served: Served) -> dict:
    """A rewritten record whose hash ID, leaf hash and summary all follow: only the chain can tell."""
    event = _event(trace, "commissioning")
    body = orjson.loads(event["record"]["body"])
    body["event"]["bizLocation"] = body["event"]["readPoint"] = {"id": "https://id.gs1.org/414/9521000000063"}
    body["eventHashID"] = event_hash_id(dict(body["event"]))
    event["record"]["body"] = canonical_json(body)
    event["leafHash"] = "0x" + record_leaf_hash(event["record"]["kind"], event["record"]["body"]).hex()
    event["event"] = {**body["event"], "eventID": body["eventHashID"], "tl:eventHashID": body["eventHashID"],
                      "tl:logIndex": event["logIndex"]}
    event["eventHashID"], event["location"] = body["eventHashID"], body["event"]["bizLocation"]["id"]
    return trace


def _forge_proof(trace: dict, _served: Served) -> dict:
    proof = _event(trace, "receiving")["inclusionProof"]
    proof[0] = "0x" + bytes(b ^ 0xFF for b in bytes.fromhex(proof[0][2:])).hex()
    return trace


def _foreign_root(trace: dict, _served: Served) -> dict:
    trace["checkpoint"]["rootHash"] = "0x" + "ab" * 32
    return trace


def _larger_tree_than_anchored(trace: dict, _served: Served) -> dict:
    for event in trace["events"]:
        event["treeSize"] += 5
    trace["checkpoint"]["treeSize"] += 5
    return trace


def _drop_recalls(trace: dict, _served: Served) -> dict:
    trace["status"]["recalls"] = []
    return trace


def _drop_pack(trace: dict, _served: Served) -> dict:
    trace["status"]["pack"] = None
    return trace


def _invent_recall(trace: dict, _served: Served) -> dict:
    trace["status"]["recalls"].append({**trace["status"]["recalls"][0], "key": PACK, "relation": "self"})
    return trace


def _reattribute(trace: dict, _served: Served) -> dict:
    receiving = _event(trace, "receiving")
    receiving["participantId"] = _event(trace, "commissioning")["participantId"]
    return trace


def _rename_participant(trace: dict, _served: Served) -> dict:
    trace["participants"][_event(trace, "dispensing")["participantId"]]["name"] = "Trusted Pharma Ltd"
    return trace


def _another_items_trace(_trace: dict, served: Served) -> dict:
    return served.node.http.get(key_of(PACKS[1]), headers=JSON).json()


def _list_for_a_stranger(trace: dict, _served: Served) -> dict:
    _event(trace, "dispensing")["appliesTo"].append(key_of(SAUCE_LOT))
    return trace


LIES = [
    ("served event retimed", _retime_served_event, "events", "differs from the signed record in eventTime"),
    ("record rewritten consistently", _rewrite_record_consistently, "inclusion", "does not lead to the root anchored"),
    ("forged proof", _forge_proof, "inclusion", "does not lead to the root anchored"),
    ("root the chain never anchored", _foreign_root, "checkpoint", "the chain anchored root"),
    ("tree larger than anchored", _larger_tree_than_anchored, "inclusion", "the chain has no checkpoint of that size"),
    ("recall dropped", _drop_recalls, "status", f"the API hides the recall of {LOT}"),
    ("pack status dropped", _drop_pack, "status", "the chain records it dispensed"),
    ("recall invented", _invent_recall, "status", f"shows a recall of {PACK} that the chain does not record"),
    ("event reattributed", _reattribute, "actors", "the API attributes it to participant"),
    ("participant renamed", _rename_participant, "actors", "the registry says 'City Hospital Pharmacy'"),
    ("another item's trace", _another_items_trace, "subject", f"not of the scanned {PACK}"),
    ("event listed for a stranger", _list_for_a_stranger, "subject", "which the event does not name"),
    ("not a trace", lambda _trace, _served: [], "events", "not a trace object"),
    ("event without record", lambda trace, _served: {**trace, "events": [{"logIndex": 3}]}, "events", "no 'record'"),
]


@pytest.mark.parametrize(("lie", "rewrite", "check", "fragment"), LIES, ids=[lie[0] for lie in LIES])
def test_a_lying_api_is_not_verified_and_the_reason_names_the_lie(served: Served, lie, rewrite, check, fragment):
    verdict = served.scan(PACK, lambda trace: rewrite(trace, served))
    assert verdict.status == "NOT VERIFIED"
    failed = {c.name: c for c in verdict.failed}
    assert check in failed, [c.to_json() for c in verdict.checks]
    assert any(fragment in problem for problem in failed[check].problems), failed[check].problems
    assert verdict.headline.startswith("NOT VERIFIED: ")
    if check == "status":  # whatever the API claims, the chain's recall is shown
        assert [w.key for w in verdict.warnings if w.kind == "recalled"] == [LOT]


def test_a_capture_record_the_api_alters_or_swaps_fails_the_signature_check(served: Served) -> None:
    def altered(bundle: dict) -> dict:
        body = orjson.loads(bundle["record"]["body"])
        body["signer"] = Account.create().address
        bundle["record"]["body"] = canonical_json(body)
        return bundle

    verdict = served.scan(PACK, evidence=altered)
    [signatures] = [c for c in verdict.failed if c.name == "signatures"]
    assert signatures.problems and all(
        "does not hold against the chain" in problem and "record was altered" in problem
        for problem in signatures.problems
    )

    farm_capture = served.node.http.get("/v1/records/0/evidence").json()  # valid evidence, of another record
    verdict = served.scan(PACK, evidence=lambda _bundle: farm_capture)
    [signatures] = [c for c in verdict.failed if c.name == "signatures"]
    assert all("the API sent record 0" in problem for problem in signatures.problems), signatures.problems


def test_a_signature_made_for_another_ledger_does_not_recover_to_the_signer(served: Served, monkeypatch) -> None:
    # The same keys and events, signed in another chain's EIP-712 domain: a replay from another ledger.
    elsewhere = property(lambda reader: SigningDomain(chain_id=reader.chain_id + 1,
                                                      verifying_contract=reader.registry_address))
    monkeypatch.setattr(ChainReader, "signing_domain", elsewhere)
    verdict = served.scan(PACK)
    [signatures] = [c for c in verdict.failed if c.name == "signatures"]
    assert all("its signature recovers to 0x" in problem and "not to the signer it names" in problem
               for problem in signatures.problems), signatures.problems


def test_withheld_capture_records_leave_the_signatures_unchecked(served: Served) -> None:
    def refuse(_bundle: dict) -> dict:
        raise httpx.ConnectError("connection reset")  # whenever a capture record is asked for

    verdict = served.scan(PACK, evidence=refuse)
    assert verdict.status == "PARTLY VERIFIED"
    [signatures] = [c for c in verdict.checks if c.name == "signatures"]
    assert signatures.outcome == "partial" and "not available" in signatures.detail


def test_an_event_the_api_calls_unanchored_is_listed_and_the_chain_says_it_is(served: Served) -> None:
    def unanchor(trace: dict) -> dict:
        event = _event(trace, "dispensing")
        event["anchored"], event["inclusionProof"] = False, None
        return trace

    verdict = served.scan(PACK, unanchor)
    dispensing = next(step for step in verdict.journey if step.step == "dispensing")
    assert verdict.status == "PARTLY VERIFIED" and verdict.unanchored == (dispensing.log_index,)
    assert "already covers" in verdict.checks[-1].detail


def test_a_new_event_is_partly_verified_until_it_is_anchored(served: Served) -> None:
    fresh = item(DRUG, "FRESH-1")
    node = served.node
    node_capture(node, "pharma", [object_event(epcs=[fresh], action="ADD", biz_step="commissioning",
                                               disposition="active", location=node.gln("pharma"), when=node.when())])
    verdict = served.scan(key_of(fresh))
    assert verdict.status == "PARTLY VERIFIED", verdict.reason
    assert len(verdict.unanchored) == 1 and "anchoring runs every few seconds" in verdict.checks[-1].detail
    assert {c.name for c in verdict.checks if c.outcome == "partial"} == {"signatures", "anchoring"}
    served.anchor_now()
    _wait_until(node, key_of(fresh), _all_anchored)
    assert served.scan(key_of(fresh)).headline == "VERIFIED"


# --- what the scanner trusts -----------------------------------------------------------------------


def test_trusted_addresses_that_do_not_hold_are_refused(served: Served) -> None:
    manifest = served.node.ledger.manifest
    with pytest.raises(ConfigError, match="on chain 1"):
        served.reader(chain_id=1)
    with pytest.raises(ConfigError, match="no CheckpointAnchor contract"):
        served.reader(anchor="0x" + "11" * 20)
    with pytest.raises(ConfigError, match="does not answer as a traceledger contract"):
        served.reader(anchor=manifest.contracts["ParticipantRegistry"])
    with pytest.raises(ConfigError, match="not the same ledger"):
        served.reader(registry=manifest.contracts["TraderWhitelist"])
