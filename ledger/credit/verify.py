"""Check a profile export using only the export and a chain node.

What is checked (every problem is collected; the export verifies only if there is none):

1. **the grade**: the rules text hashes to the SHA-256 the profile names; the
   profile is re-graded from its facts' values with those rules
   (:func:`ledger.credit.grade.grade_values`) and must give the same score,
   grade and factors; each factor's value is its fact's value, and a count
   whose occurrences are all listed equals their number;
2. **every cited event**: its record is in the export, hashes to its leaf,
   and its inclusion proof leads to the export's checkpoint, whose root the
   anchor contract holds (:func:`ledger.bundle.prove_record_included`,
   :func:`ledger.bundle.read_chain_checkpoint`); the record is that event (its
   hash ID), and says what the fact relies on (``claims``: the identifier it
   names, its bizStep, disposition, trader, and the participant that signed
   it: the registry's ``participantOf`` of the record's signer);
3. **every cited checkpoint**: the anchor contract holds that root for that
   tree size, and the named transaction anchored it;
4. **every cited transaction**: it succeeded in the named block and emitted
   the named contract event at the named log index, from the named contract,
   with the named arguments;
5. **refusals** cannot be proven (a refused capture never enters the log):
   they are counted and reported as the index's word.

``trusted``: contract addresses the caller trusts (a data dir's manifest);
when given, every contract the export names must be that one. Without it,
the contracts the export names are used, as ``verify`` does for a bundle.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.exceptions import LogTopicError, MismatchedABI, TransactionNotFound

from ledger.bundle import BundleError, prove_record_included, read_chain_checkpoint
from ledger.capture.service import EVENT_KIND, event_identifiers
from ledger.chain.base import Chain
from ledger.credit.errors import ProfileExportError
from ledger.credit.evidence import CHECKPOINT, EVENT, REFUSAL, TRANSACTION
from ledger.credit.export import EXPORT_FORMAT, cited
from ledger.credit.facts import COUNT, Fact
from ledger.credit.grade import grade_values
from ledger.credit.rules import parse_rules
from ledger.crossborder.convention import read_claim
from ledger.epcis.vocab import BIZ_STEP, DISPOSITION, normalize
from ledger.errors import LedgerError
from ledger.status.subjects import PackStatus
from ledger.whitelist.uscc import from_bytes18

MAX_PROBLEMS_SHOWN = 5


@dataclass
class ExportVerdict:
    subject: str
    grade: str
    score: float
    events: int = 0
    checkpoints: int = 0
    transactions: int = 0
    refusals: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        attested = f"; {self.refusals} refusal(s) are the index's word (refused captures are not logged)" \
            if self.refusals else ""
        return (f"credit profile of {self.subject}: grade {self.grade} (score {self.score:g}) re-graded from its facts; "
                f"{self.events} event(s) proven by inclusion in an anchored checkpoint, {self.checkpoints} checkpoint(s) "
                f"and {self.transactions} transaction(s) read back from the chain{attested}")


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


class _Verifier:
    def __init__(self, export: dict[str, Any], chain: Chain, trusted: dict[str, str] | None) -> None:
        self.export = export
        self.chain = chain
        self.trusted = trusted
        self.profile = export["profile"]
        self.problems: list[str] = []
        self._signers: dict[str, str] = {}
        self._contracts: dict[tuple[str, str], Any] = {}

    # -- helpers -------------------------------------------------------------------------

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def contract(self, name: str, address: str | None) -> Any:
        """The contract ``name`` at ``address`` (the trusted one when the caller gave one)."""
        trusted = (self.trusted or {}).get(name)
        if trusted is not None and address is not None and Web3.to_checksum_address(address) != trusted:
            raise ProfileExportError(f"the export names {name} at {address}, not the trusted {trusted}")
        chosen = trusted or address
        if chosen is None:
            raise ProfileExportError(f"the export names no {name} contract")
        key = (name, Web3.to_checksum_address(chosen))
        if key not in self._contracts:
            if not self.chain.code_at(key[1]):
                raise ProfileExportError(f"no {name} contract at {key[1]} on chain {self.chain.chain_id}")
            self._contracts[key] = self.chain.contract(name, key[1])
        return self._contracts[key]

    def participant_of(self, signer: str) -> str:
        if signer not in self._signers:
            registry = self.contract("ParticipantRegistry", self.profile["asOf"]["contracts"].get("ParticipantRegistry"))
            self._signers[signer] = _hex(self.chain.call(registry.functions.participantOf(Web3.to_checksum_address(signer))))
        return self._signers[signer]

    # -- 1. the grade ----------------------------------------------------------------------

    def grade(self) -> None:
        rules_json, described = self.export["rules"], self.profile["rules"]
        digest = hashlib.sha256(rules_json["text"].encode("utf-8")).hexdigest()
        if digest != rules_json["sha256"] or digest != described["sha256"]:
            self.problem(f"the rules text hashes to {digest}, the profile names {described['sha256']}: the rules were altered")
            return
        rules = parse_rules(rules_json["text"], source="the export")
        facts = self.profile["facts"]
        kind = self.profile["subject"]["kind"]
        outcome = grade_values(rules, kind, {name: fact["value"] for name, fact in facts.items()})
        if (outcome.grade, outcome.score) != (self.profile["grade"], self.profile["score"]):
            self.problem(f"the facts grade {outcome.grade} (score {outcome.score:g}) with these rules, "
                         f"the profile says {self.profile['grade']} (score {self.profile['score']:g})")
        held = [(rule.id, points, rule.cap) for rule, _, points in outcome.held]
        shown = [(f["rule"], f["effect"]["points"], f["effect"]["cap"]) for f in self.profile["factors"]]
        if held != shown:
            self.problem(f"the rules that hold are {[h[0] for h in held]}, the profile lists {[s[0] for s in shown]}")
        for name, fact in facts.items():
            if fact.get("type") == COUNT:
                if fact["value"] != fact["total"]:
                    self.problem(f"fact {name}: value {fact['value']} but total {fact['total']}")
                elif fact["complete"] and fact["value"] != len(fact["items"]):
                    self.problem(f"fact {name}: value {fact['value']} but {len(fact['items'])} occurrence(s) listed")
        for factor in self.profile["factors"]:
            fact = facts.get(factor["fact"])
            if fact is None or factor["value"] != fact["value"]:
                self.problem(f"factor {factor['rule']}: value {factor['value']} is not that of fact {factor['fact']}")
                continue
            listed = Fact(factor["fact"], fact["value"], fact["items"], fact["total"]).evidence()
            if factor["evidence"] != listed:
                self.problem(f"factor {factor['rule']}: its evidence is not that of fact {factor['fact']}")

    # -- 2. events -------------------------------------------------------------------------

    def records(self) -> dict[int, dict[str, Any]]:
        checkpoint = self.export.get("checkpoint")
        records = {int(r["index"]): r for r in self.export.get("records", [])}
        if not records:
            return {}
        if checkpoint is None:
            self.problem("the export cites events but holds no checkpoint to prove them against")
            return {}
        if int(checkpoint["chainId"]) != self.chain.chain_id:
            raise ProfileExportError(f"the export's checkpoint is on chain {checkpoint['chainId']}, "
                                     f"but the node is on chain {self.chain.chain_id}")
        anchor = self.contract("CheckpointAnchor", checkpoint["contract"])
        size, root = int(checkpoint["treeSize"]), bytes.fromhex(checkpoint["rootHash"].removeprefix("0x"))
        on_chain = read_chain_checkpoint(self.chain, anchor, size)
        if on_chain.root_hash != root:
            self.problem(f"checkpoint {size}: the chain anchored root {_hex(on_chain.root_hash)}, "
                         f"the export claims {checkpoint['rootHash']}")
            return {}
        proven = {}
        for index, record in records.items():
            if record.get("inclusionProof") is None:
                self.problem(f"event at log index {index} was not anchored when exported: it cannot be proven yet")
                continue
            try:
                prove_record_included(
                    kind=str(record["kind"]), body=str(record["body"]), index=index, size=size,
                    proof=[bytes.fromhex(h.removeprefix("0x")) for h in record["inclusionProof"]], root=root,
                    claimed_leaf=bytes.fromhex(record["leafHash"].removeprefix("0x")) if record.get("leafHash") else None)
            except (BundleError, LedgerError) as error:
                self.problem(f"record {index}: {error.message}")
                continue
            proven[index] = record
        return proven

    def event(self, ref: dict[str, Any], proven: dict[int, dict[str, Any]]) -> bool:
        index = int(ref["logIndex"])
        record = proven.get(index)
        if record is None:
            if not any(int(r["index"]) == index for r in self.export.get("records", [])):
                self.problem(f"event {ref['eventHashID']} (log index {index}) is cited but its record is not in the export")
            return False
        body = json.loads(record["body"])
        if record["kind"] != EVENT_KIND or body.get("eventHashID") != ref["eventHashID"]:
            self.problem(f"record {index} is not event {ref['eventHashID']}")
            return False
        event = body["event"]
        for claim, expected in (ref.get("claims") or {}).items():
            actual = self.claimed(claim, event, body)
            if not (expected in actual if isinstance(actual, set) else actual == expected):
                self.problem(f"event {index}: the fact relies on {claim} {expected!r}, the record says {actual!r}")
                return False
        return True

    def claimed(self, claim: str, event: dict[str, Any], body: dict[str, Any]) -> Any:
        match claim:
            case "names":
                return {key for key, _ in event_identifiers(event)}
            case "bizStep":
                return normalize(BIZ_STEP, event.get("bizStep")) if event.get("bizStep") else None
            case "disposition":
                return normalize(DISPOSITION, event.get("disposition")) if event.get("disposition") else None
            case "trader":
                found = read_claim(event, None)
                return found.uscc if found else None
            case "by":
                return self.participant_of(body["signer"])
        return f"(an unknown claim {claim!r})"

    # -- 3. and 4. chain facts -------------------------------------------------------------

    def receipt(self, tx_hash: str, block: int | None) -> Any:
        try:
            receipt = self.chain._guard(lambda: self.chain.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            self.problem(f"transaction {tx_hash} is not on chain {self.chain.chain_id}")
            return None
        if receipt["status"] != 1:
            self.problem(f"transaction {tx_hash} failed")
            return None
        if block is not None and receipt["blockNumber"] != block:
            self.problem(f"transaction {tx_hash} is in block {receipt['blockNumber']}, the export says {block}")
            return None
        return receipt

    def checkpoint(self, ref: dict[str, Any]) -> bool:
        anchor = self.contract("CheckpointAnchor", ref.get("contract"))
        size = int(ref["treeSize"])
        try:
            on_chain = read_chain_checkpoint(self.chain, anchor, size)
        except BundleError as error:
            self.problem(f"checkpoint {size}: {error.message}")
            return False
        if _hex(on_chain.root_hash) != ref["root"]:
            self.problem(f"checkpoint {size}: the chain anchored root {_hex(on_chain.root_hash)}, the export says {ref['root']}")
            return False
        if ref.get("tx"):
            receipt = self.receipt(ref["tx"], ref.get("block"))
            if receipt is None:
                return False
            anchored = [e for e in anchor.events.CheckpointAnchored().process_receipt(receipt) if e["args"]["treeSize"] == size]
            if not anchored:
                self.problem(f"transaction {ref['tx']} did not anchor checkpoint {size}")
                return False
        return True

    def transaction(self, ref: dict[str, Any]) -> bool:
        contract = self.contract(ref["contractName"], ref.get("contract"))
        receipt = self.receipt(ref["txHash"], ref["block"])
        if receipt is None:
            return False
        logs = [log for log in receipt["logs"] if log["logIndex"] == ref["logIndex"]]
        if not logs or Web3.to_checksum_address(logs[0]["address"]) != contract.address:
            self.problem(f"transaction {ref['txHash']} has no log {ref['logIndex']} from {ref['contractName']} {contract.address}")
            return False
        try:
            decoded = contract.events[ref["event"]]().process_log(logs[0])
        except (MismatchedABI, LogTopicError, ValueError):  # the log is not that event
            self.problem(f"log {ref['logIndex']} of transaction {ref['txHash']} is not a {ref['event']} event")
            return False
        for name, expected in ref.get("args", {}).items():
            actual = _argument(ref["event"], name, decoded["args"].get(name))
            if actual != expected:
                self.problem(f"{ref['event']} in transaction {ref['txHash']}: {name} is {actual!r}, the export says {expected!r}")
                return False
        return True

    # -- all -------------------------------------------------------------------------------

    def run(self) -> ExportVerdict:
        subject = self.profile["subject"]
        verdict = ExportVerdict(subject.get("name") or subject["id"], self.profile["grade"], self.profile["score"])
        self.grade()
        proven = self.records()
        seen: set[str] = set()
        for ref in cited(self.profile):
            key = json.dumps(ref, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            kind = ref.get("kind")
            if kind == EVENT:
                verdict.events += self.event(ref, proven)
            elif kind == CHECKPOINT:
                verdict.checkpoints += self.checkpoint(ref)
            elif kind == TRANSACTION:
                verdict.transactions += self.transaction(ref)
            elif kind == REFUSAL:
                verdict.refusals += 1
            else:
                self.problem(f"unknown kind of evidence {kind!r}")
        verdict.problems = self.problems
        return verdict


def _argument(event: str, name: str, value: Any) -> Any:
    """A decoded event argument in the form a profile cites it."""
    if event == "Decommissioned" and name == "status":
        return PackStatus(value).label
    if isinstance(value, (bytes, bytearray)):
        return from_bytes18(bytes(value)) if name == "uscc" else _hex(value)
    return value


def verify_export(export: Any, chain: Chain, *, trusted: dict[str, str] | None = None) -> ExportVerdict:
    """Check ``export`` (see the module docstring) against ``chain``.

    Raises ProfileExportError naming the problems (the first few, and how
    many) unless everything holds.
    """
    if not isinstance(export, dict) or export.get("format") != EXPORT_FORMAT:
        shown = export.get("format") if isinstance(export, dict) else type(export).__name__
        raise ProfileExportError(f"not a traceledger credit profile export (format {shown!r}, expected {EXPORT_FORMAT!r})")
    try:
        verdict = _Verifier(export, chain, trusted).run()
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProfileExportError(f"the export is missing or mangles a field: {error!r}") from None
    if verdict.problems:
        shown = "; ".join(verdict.problems[:MAX_PROBLEMS_SHOWN])
        more = f" (and {len(verdict.problems) - MAX_PROBLEMS_SHOWN} more)" if len(verdict.problems) > MAX_PROBLEMS_SHOWN else ""
        raise ProfileExportError(f"the credit profile export does not verify: {len(verdict.problems)} problem(s): {shown}{more}")
    return verdict
