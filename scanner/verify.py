"""Independent verification of a trace served by the API: nothing it says is taken on trust.

The API answers a scan with the trace of an item (see ``api/trace.py``):
each event with its log record, leaf hash and inclusion proof, the
checkpoint they lead to, the participants' names and the recall and pack
status its index mirrors. :func:`verify_trace` re-derives everything that
matters from the records themselves and from the chain, through a
:class:`~scanner.chain_reader.ChainReader` built on contract addresses the
*user* trusts (a data dir manifest, or addresses given on the command
line), never the API's. It concludes in a :class:`~scanner.verdict.Verdict`.

Named checks, each passing, failing (the API lied or is broken) or partial
(something could not be checked yet):

``subject``
    the trace is about the scanned key, and each event names the keys the
    API says it concerns;
``events``
    each record re-hashes to its served leaf hash, the served event equals
    the event inside the record, its hash ID recomputes from the event, and
    the summary the API shows (time, step, place...) is the event's;
``inclusion``
    each anchored event's proof leads from its re-hashed record to the root
    the anchor contract holds for that tree size (read on chain);
``checkpoint``
    the checkpoint the API shows (chain, contract, size, root) is on chain;
``signatures``
    each event's capture record (fetched as an evidence bundle, itself
    proven against the chain) names the event, and its EIP-712 signature
    recovers to the signer the event record names;
``actors``
    each signer's key belongs, on chain, to the participant the API
    attributes the event to; participants' and places' names are the
    registry's;
``status``
    recalls and pack status of every key of the trace read from the
    ProductStatus contract; the API's own claims must agree with the chain
    at the block its mirror says it has read;
``anchoring``
    events not anchored yet are listed (partial, not a failure).

The chain reader, the verdict and the readers of the API's answer live in
:mod:`scanner.chain_reader`, :mod:`scanner.verdict` and
:mod:`scanner.trace_answer`; the public names are re-exported here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ledger.bundle import BundleError, ChainCheckpoint, prove_record_included, verify_bundle_with_anchor
from ledger.capture.service import CAPTURE_KIND, EVENT_KIND, event_identifiers
from ledger.capture.signing import SignatureError, recover_signer
from ledger.epcis.hashid import event_hash_id
from ledger.epcis.identifiers import parse_epc
from ledger.epcis.vocab import BIZ_STEP, DISPOSITION
from ledger.errors import LedgerError
from ledger.log.errors import ProofError
from ledger.records.encoding import record_leaf_hash
from ledger.status.service import ChainStatus
from ledger.status.subjects import PackStatus
from ledger.trace.indexing import lot_links
from scanner.chain_reader import ChainReader, TrustedContracts
from scanner.trace_answer import (
    MalformedAnswer,
    ServedEvent,
    hex32,
    instant,
    place_of,
    required_field,
    vocabulary_term,
)
from scanner.verdict import Check, JourneyStep, StatusWarning, Verdict

__all__ = [
    "ChainReader",
    "Check",
    "JourneyStep",
    "StatusWarning",
    "TrustedContracts",
    "Verdict",
    "verify_trace",
]

EvidenceSource = Callable[[int], Any]
"""Gets the evidence bundle of a log record (``/v1/records/{i}/evidence``); raises LedgerError if it cannot."""

CHECK_ORDER = ("subject", "events", "inclusion", "checkpoint", "signatures", "actors", "status", "anchoring")
"""Checks in the order they are reported; the first failing one gives the verdict's reason."""
_SERVER_ADDED_FIELDS = ("tl:eventHashID", "tl:logIndex")


def _check_events(trace: dict[str, Any]) -> tuple[Check, list[ServedEvent]]:
    """Check ``events``: records, leaf hashes, served events, hash IDs and summaries agree."""
    raw_events = trace.get("events")
    if not isinstance(raw_events, list):
        return Check("events", "fail", "no event list", ("the answer has no 'events' list",)), []
    if not raw_events:
        return Check("events", "partial", "the API serves no event for this key: nothing to verify"), []
    problems: list[str] = []
    events: list[ServedEvent] = []
    seen: set[int] = set()
    for position, entry in enumerate(raw_events):
        where = f"events[{position}]"
        try:
            log_index = required_field(entry, "logIndex", int, where)
        except MalformedAnswer as error:
            problems.append(error.message)
            continue
        if log_index in seen:
            problems.append(f"log index {log_index} is served twice")
            continue
        seen.add(log_index)
        item = ServedEvent(position, entry, log_index)
        events.append(item)
        try:
            problems.extend(_check_record(item, where))
        except MalformedAnswer as error:
            problems.append(f"{item.label}: {error.message}")
    intact = sum(1 for item in events if item.intact)
    if problems:
        detail = f"{intact} of {len(raw_events)} events match their records"
        return Check("events", "fail", detail, tuple(problems)), events
    return Check("events", "pass", f"{intact} events re-hashed: each matches its record, leaf hash and hash ID"), events


def _check_record(item: ServedEvent, where: str) -> list[str]:
    """Problems of one event entry against its own record; sets ``item.intact`` when there are none."""
    entry = item.entry
    record = required_field(entry, "record", dict, where)
    item.kind = required_field(record, "kind", str, f"{where}.record")
    item.body = required_field(record, "body", str, f"{where}.record")
    index = required_field(record, "index", int, f"{where}.record")
    problems = []
    if item.kind != EVENT_KIND:
        problems.append(f"{item.label}: its record is of kind {item.kind!r}, not {EVENT_KIND!r}")
    if index != item.log_index:
        problems.append(f"{item.label}: its record is record {index}")
    try:
        content = orjson.loads(item.body)
    except orjson.JSONDecodeError:
        return [*problems, f"{item.label}: its record body is not JSON"]
    if not isinstance(content, dict) or not isinstance(content.get("event"), dict):
        return [*problems, f"{item.label}: its record holds no event"]
    item.content = content
    if "leafHash" in entry:
        leaf = record_leaf_hash(item.kind, item.body)
        if hex32(entry["leafHash"], f"{where}.leafHash") != leaf:
            problems.append(f"{item.label}: the record does not hash to the served leafHash (the record was altered)")
    try:
        recomputed = event_hash_id(dict(item.event))
    except Exception as error:  # the event is whatever the API sent: any failure to hash it is a finding
        return [*problems, f"{item.label}: its event cannot be hashed ({error})"]
    if content.get("eventHashID") != recomputed:
        problems.append(
            f"{item.label}: the event's hash ID recomputes to {recomputed}, "
            f"the record says {content.get('eventHashID')}"
        )
    if entry.get("eventHashID") != recomputed:
        problems.append(f"{item.label}: the API gives hash ID {entry.get('eventHashID')}, the event's is {recomputed}")
    problems.extend(_served_event_problems(item, recomputed))
    problems.extend(_summary_problems(item))
    item.intact = not problems
    return problems


def _served_event_problems(item: ServedEvent, hash_id: str) -> list[str]:
    """The served event must be the recorded one, plus only the fields the server adds."""
    served = item.entry.get("event")
    if not isinstance(served, dict):
        return [f"{item.label}: no event served"]
    problems = []
    stripped = {k: v for k, v in served.items() if k not in _SERVER_ADDED_FIELDS}
    # An event captured without an eventID is served with its hash ID as eventID.
    if "eventID" not in item.event and stripped.pop("eventID", hash_id) != hash_id:
        problems.append(f"{item.label}: the served eventID is not the event's hash ID")
    if stripped != item.event:
        changed = sorted(k for k in set(stripped) | set(item.event) if stripped.get(k) != item.event.get(k))
        problems.append(f"{item.label}: the served event differs from the signed record in {', '.join(changed)}")
    if served.get("tl:eventHashID", hash_id) != hash_id or served.get("tl:logIndex", item.log_index) != item.log_index:
        problems.append(f"{item.label}: the served event's tl:eventHashID or tl:logIndex is not its record's")
    return problems


def _summary_problems(item: ServedEvent) -> list[str]:
    """The API's one-line summary (what its consumer page shows) must say what the event says."""
    entry, event = item.entry, item.event
    claims = {
        "eventTime": (instant(entry.get("eventTime")), instant(event.get("eventTime"))),
        "type": (entry.get("type"), event.get("type")),
        "action": (entry.get("action"), event.get("action")),
        "bizStep": (vocabulary_term(BIZ_STEP, entry.get("bizStep")), vocabulary_term(BIZ_STEP, event.get("bizStep"))),
        "disposition": (
            vocabulary_term(DISPOSITION, entry.get("disposition")),
            vocabulary_term(DISPOSITION, event.get("disposition")),
        ),
        "location": (entry.get("location"), place_of(event)),
    }
    wrong = [name for name, (claimed, actual) in claims.items() if name in entry and claimed != actual]
    return [f"{item.label}: the API's {', '.join(wrong)} differ from the signed event"] if wrong else []


def _check_subject(trace: dict[str, Any], scanned_key: str, events: list[ServedEvent]) -> Check:
    """Check ``subject``: the trace is the scanned key's, and events name the keys they are said to concern."""
    problems = []
    if trace.get("key") != scanned_key:
        problems.append(f"the API answered with the trace of {trace.get('key')!r}, not of the scanned {scanned_key}")
    for item in events:
        if not item.content:
            continue
        applies = item.entry.get("appliesTo")
        if not isinstance(applies, list):
            problems.append(f"{item.label}: no appliesTo list")
            continue
        try:
            named = {key for key, _ in event_identifiers(item.event)}
        except (LedgerError, KeyError, TypeError, AttributeError) as error:
            problems.append(f"{item.label}: its identifiers do not parse ({error})")
            continue
        strangers = ", ".join(str(key) for key in applies if key not in named)
        if strangers:
            problems.append(f"{item.label}: said to concern {strangers}, which the event does not name")
    if problems:
        return Check("subject", "fail", "the trace is not about what was scanned", tuple(problems))
    return Check("subject", "pass", f"the trace is of {scanned_key}; every event names the keys it is listed for")


def _check_inclusion(events: list[ServedEvent], chain: ChainReader) -> tuple[Check, list[int]]:
    """Check ``inclusion`` against roots read on chain; returns the log indices served as not anchored."""
    problems, proven, unanchored = [], 0, []
    for item in events:
        entry = item.entry
        if entry.get("anchored") is not True:
            unanchored.append(item.log_index)
            continue
        if not item.body:
            continue  # no record to prove: reported by the events check
        where = f"events[{item.position}]"
        try:
            size = required_field(entry, "treeSize", int, where)
            hashes = required_field(entry, "inclusionProof", list, where)
            proof = [hex32(h, f"{where}.inclusionProof[{i}]") for i, h in enumerate(hashes)]
        except MalformedAnswer as error:
            problems.append(f"{item.label}: {error.message}")
            continue
        on_chain = chain.checkpoint(size)
        if on_chain is None:
            problems.append(
                f"{item.label}: proven against a tree of {size} records, but the chain has no checkpoint of that size"
            )
            continue
        try:
            prove_record_included(kind=item.kind, body=item.body, index=item.log_index, size=size, proof=proof,
                                  root=on_chain.root_hash)
        except ProofError as error:
            problems.append(
                f"{item.label}: its inclusion proof does not lead to the root anchored on chain ({error.message})"
            )
            continue
        proven += 1
    if problems:
        detail = f"{proven} of {proven + len(problems)} proofs lead to an anchored root"
        return Check("inclusion", "fail", detail, tuple(problems)), unanchored
    return Check("inclusion", "pass", f"{proven} inclusion proofs lead to roots anchored on chain"), unanchored


def _check_checkpoint(
    trace: dict[str, Any], events: list[ServedEvent], chain: ChainReader
) -> tuple[Check, ChainCheckpoint | None]:
    """Check ``checkpoint``: the one the API shows is on the trusted chain and contract."""
    claimed = trace.get("checkpoint")
    if claimed is None:
        if any(item.entry.get("anchored") is True for item in events):
            problem = "events are said to be anchored, but no checkpoint is shown"
            return Check("checkpoint", "fail", "no checkpoint shown", (problem,)), None
        return Check("checkpoint", "pass", "no checkpoint shown (nothing anchored yet)"), None
    try:
        size = required_field(claimed, "treeSize", int, "checkpoint")
        root = hex32(required_field(claimed, "rootHash", str, "checkpoint"), "checkpoint.rootHash")
    except MalformedAnswer as error:
        return Check("checkpoint", "fail", "malformed checkpoint", (error.message,)), None
    problems = []
    if claimed.get("chainId") != chain.chain_id:
        problems.append(f"the API's checkpoint is on chain {claimed.get('chainId')}, the trusted is {chain.chain_id}")
    if str(claimed.get("contract", "")).lower() != chain.anchor_address.lower():
        problems.append(
            f"the API's checkpoint names anchor contract {claimed.get('contract')}, "
            f"the trusted one is {chain.anchor_address}"
        )
    on_chain = chain.checkpoint(size)
    if on_chain is None:
        problems.append(f"the chain has no checkpoint of size {size}: the API's checkpoint was never anchored")
    elif on_chain.root_hash != root:
        problems.append(
            f"checkpoint {size}: the chain anchored root 0x{on_chain.root_hash.hex()}, the API claims 0x{root.hex()}"
        )
    if problems:
        return Check("checkpoint", "fail", "the API's checkpoint is not the chain's", tuple(problems)), on_chain
    assert on_chain is not None
    return Check(
        "checkpoint", "pass",
        f"checkpoint of {size} records, root 0x{root.hex()[:16]}…, anchored in block {on_chain.block_number} "
        f"on chain {chain.chain_id}",
    ), on_chain


def _check_signatures(events: list[ServedEvent], chain: ChainReader, evidence: EvidenceSource | None) -> Check:
    """Check ``signatures``: each event's capture record is proven on chain and signed by the event's signer."""
    by_capture: dict[int, list[ServedEvent]] = defaultdict(list)
    problems, unchecked = [], []
    for item in events:
        if not item.content:
            continue
        capture, signer = item.content.get("captureRecord"), item.content.get("signer")
        if not isinstance(capture, int) or isinstance(capture, bool) or not isinstance(signer, str):
            problems.append(f"{item.label}: its record names no capture record and signer")
            continue
        by_capture[capture].append(item)
    if evidence is None:
        unchecked = [f"capture records {', '.join(map(str, sorted(by_capture)))} not fetched"] if by_capture else []
    signed = 0
    for capture, items in sorted(by_capture.items()):
        if evidence is None:
            break
        try:
            bundle = evidence(capture)
        except LedgerError as error:
            unchecked.append(f"capture record {capture} (of log indices {', '.join(str(i.log_index) for i in items)}) "
                             f"is not available: {error.message}")
            continue
        found = _capture_problems(capture, bundle, items, chain)
        problems.extend(found)
        signed += 0 if found else len(items)
    if problems:
        return Check("signatures", "fail", f"{signed} events carry a valid signature", tuple(problems))
    if unchecked:
        detail = f"{signed} events' signatures checked; not checked: {'; '.join(unchecked)}"
        return Check("signatures", "partial", detail)
    detail = f"{signed} events signed (EIP-712) by the keys their records name, in {len(by_capture)} captures on chain"
    return Check("signatures", "pass", detail)


def _capture_problems(index: int, bundle: Any, items: list[ServedEvent], chain: ChainReader) -> list[str]:
    label = f"capture record {index}"
    try:
        verify_bundle_with_anchor(bundle, chain.chain, chain.anchor)
    except (BundleError, ProofError) as error:
        return [f"{label}: its evidence does not hold against the chain ({error.message})"]
    record = bundle["record"]
    if int(record["index"]) != index or record["kind"] != CAPTURE_KIND:
        return [f"{label}: the API sent record {record['index']} of kind {record['kind']!r} instead"]
    try:
        body = orjson.loads(record["body"])
        signer, nonce, signature = str(body["signer"]), int(body["nonce"]), str(body["signature"])
        hash_ids = [str(h) for h in body["eventHashIDs"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return [f"{label}: its body is not a capture (signer, nonce, signature, eventHashIDs)"]
    try:
        recovered = recover_signer(chain.signing_domain, hash_ids, nonce, signature)
    except SignatureError as error:
        return [f"{label}: {error.message}"]
    problems = []
    if recovered.lower() != signer.lower():
        problems.append(f"{label}: its signature recovers to {recovered}, not to the signer it names, {signer}")
    for item in items:
        if item.content.get("eventHashID") not in hash_ids:
            problems.append(f"{item.label}: its capture record {index} does not list it")
        if str(item.content.get("signer", "")).lower() != signer.lower():
            problems.append(f"{item.label}: its record names signer {item.content.get('signer')}, its capture {signer}")
    return problems


@dataclass
class _Names:
    """Participants and places as the registry on chain names them."""

    actors: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    """log index -> (participant id, name)."""
    places: dict[str, str] = field(default_factory=dict)
    """location URI -> name of the participant registered under its GLN."""


def _check_actors(trace: dict[str, Any], events: list[ServedEvent], chain: ChainReader) -> tuple[Check, _Names]:
    """Check ``actors``: who signed each event and the names shown, against the registry on chain."""
    names, problems = _Names(), []
    for item in events:
        signer = item.content.get("signer")
        if not isinstance(signer, str):
            continue
        owner = chain.participant_of_key(signer)
        if owner is None:
            problems.append(f"{item.label}: its signer {signer} is no registered key on chain")
            continue
        participant = chain.participant(owner)
        names.actors[item.log_index] = (owner, participant.name if participant else None)
        claimed = item.entry.get("participantId")
        if claimed is not None and str(claimed).lower() != owner.lower():
            problems.append(f"{item.label}: the API attributes it to participant {claimed}, but its signer's key "
                            f"belongs to {owner} ({participant.name if participant else 'unknown'}) on chain")
    claimed_names = trace.get("participants") if isinstance(trace.get("participants"), dict) else {}
    for pid, claim in claimed_names.items():
        participant = chain.participant(str(pid))
        claimed_name = claim.get("name") if isinstance(claim, dict) else None
        if participant is None:
            problems.append(f"the API names participant {pid} {claimed_name!r}, which the registry does not know")
        elif claimed_name is not None and claimed_name != participant.name:
            problems.append(f"the API names participant {pid} {claimed_name!r}; the registry says {participant.name!r}")
    for location in {place_of(item.event) for item in events if item.content} - {None}:
        name = _place_name(location, chain)
        if name is not None:
            names.places[location] = name
    claimed_places = trace.get("locationNames") if isinstance(trace.get("locationNames"), dict) else {}
    for location, claimed_name in claimed_places.items():
        name = names.places.get(location) or _place_name(location, chain)
        if claimed_name != name:
            problems.append(f"the API names place {location} {claimed_name!r}; the registry says {name!r}")
    if problems:
        return Check("actors", "fail", "who did what is not what the chain says", tuple(problems)), names
    detail = f"{len(names.actors)} events' signing keys belong to the participants shown; names read from the registry"
    return Check("actors", "pass", detail), names


def _place_name(location: str, chain: ChainReader) -> str | None:
    try:
        gln = parse_epc(location).gln
    except LedgerError:
        return None
    owner = chain.participant_of_gln(gln) if gln else None
    participant = chain.participant(owner) if owner else None
    return participant.name if participant else None


def _trace_keys(trace: dict[str, Any], scanned_key: str, events: list[ServedEvent]) -> dict[str, str]:
    """Every key whose recall concerns the scanned item -> how it relates to it.

    The API's nodes, the keys its events are listed for, and, derived from
    the verified events themselves, the lot of each serialized item (ILMD
    ``lotNumber`` or a ``/10/`` qualifier): a server hiding the lot node
    still has its recall checked.
    """
    relations: dict[str, str] = {scanned_key: "self"}
    for node in trace.get("nodes") or ():
        if isinstance(node, dict) and isinstance(node.get("key"), str):
            relations.setdefault(node["key"], str(node.get("relation") or "related"))
    for item in events:
        if item.intact:
            for key in item.entry.get("appliesTo") or ():
                relations.setdefault(str(key), str(item.entry.get("relation") or "related"))
    for item in events:
        if item.intact:
            for lot, member in lot_links(item.event):
                if member in relations:
                    relations.setdefault(lot, "lot")
    return relations


def _check_status(
    trace: dict[str, Any], scanned_key: str, events: list[ServedEvent], chain: ChainReader
) -> tuple[Check, list[StatusWarning]]:
    """Check ``status``: recalls and pack status from the chain, and the API's claims against them."""
    if chain.status is None:
        detail = "recalls and pack status not checked: no ProductStatus contract is trusted"
        return Check("status", "partial", detail), []
    relations = _trace_keys(trace, scanned_key, events)
    claim = trace.get("status")
    problems: list[str] = []
    claimed_recalls: dict[str, dict[str, Any]] = {}
    if isinstance(claim, dict):
        for recall in claim.get("recalls") or ():
            if isinstance(recall, dict) and isinstance(recall.get("key"), str):
                claimed_recalls[recall["key"]] = recall
                relations.setdefault(recall["key"], str(recall.get("relation") or "related"))
    now = chain.statuses(relations, chain.head)
    warnings = _warnings(now, relations, scanned_key, chain)

    if claim is None:
        silenced = [k for k, s in now.items() if s.recalled or (k == scanned_key and s.pack_status)]
        problems.extend(f"the API shows no status, but the chain records the {_what(now[k])} of {k}" for k in silenced)
    elif not isinstance(claim, dict):
        return Check("status", "fail", "malformed status", ("the API's status is not an object",)), warnings
    else:
        if str(claim.get("contract", "")).lower() != str(chain.status_address).lower():
            problems.append(
                f"the API's status names contract {claim.get('contract')}, the trusted one is {chain.status_address}"
            )
        mirrored = claim.get("mirroredToBlock")
        mirrored = mirrored if isinstance(mirrored, int) and not isinstance(mirrored, bool) else None
        if mirrored is not None and mirrored > chain.head:
            problems.append(f"the API says it read status up to block {mirrored}, beyond the chain head {chain.head}")
        # The API's mirror may lag the chain: hold its claims against the chain at the block it says it has read.
        at = mirrored if mirrored is not None and 0 <= mirrored <= chain.head else chain.head
        then = now if at == chain.head else chain.statuses(relations, at)
        problems.extend(_recall_claim_problems(claimed_recalls, then, f"block {at}"))
        problems.extend(_pack_claim_problems(claim.get("pack"), then.get(scanned_key), scanned_key, f"block {at}"))
    summary = f"{len(relations)} keys checked on chain at block {chain.head}: " + (
        "; ".join(w.describe() for w in warnings) if warnings else "no recall in force, not decommissioned"
    )
    if problems:
        return Check("status", "fail", summary, tuple(problems)), warnings
    return Check("status", "pass", summary), warnings


def _what(status: ChainStatus) -> str:
    return "recall" if status.recalled else f"decommissioning ({status.pack_status.label})"


def _recall_claim_problems(
    claimed: dict[str, dict[str, Any]], chain_state: dict[str, ChainStatus], when: str
) -> list[str]:
    problems = []
    for key, status in chain_state.items():
        recall = claimed.get(key)
        if status.recalled and recall is None:
            problems.append(f"the API hides the recall of {key} that the chain records (in force at {when})")
        elif recall is not None and not status.recalled:
            problems.append(f"the API shows a recall of {key} that the chain does not record at {when}")
        elif recall is not None:
            if _hash_text(recall.get("recalledBy")) != _hash_text(status.recalled_by):
                problems.append(
                    f"the API says {key} was recalled by {recall.get('recalledBy')}; "
                    f"the chain says {status.recalled_by}"
                )
            if _hash_text(recall.get("reasonHash")) != _hash_text(status.recall_reason_hash):
                problems.append(f"the API's recall reason hash of {key} is not the chain's")
    return problems


def _hash_text(value: Any) -> str | None:
    """A 32-byte id or hash as lower-case hex; the zero hash and None both mean "none"."""
    if value is None:
        return None
    text = str(value).lower()
    return None if text.removeprefix("0x").strip("0") == "" else text


def _pack_claim_problems(claimed: Any, status: ChainStatus | None, key: str, when: str) -> list[str]:
    actual = status.pack_status.label if status is not None and status.pack_status else None
    shown = claimed.get("status") if isinstance(claimed, dict) else None
    if shown == actual:
        return []
    if actual is None:
        return [f"the API says {key} was {shown}; the chain records no decommissioning at {when}"]
    return [f"the API says {key} is {shown or 'in the supply chain'}; the chain records it {actual} at {when}"]


def _warnings(
    statuses: dict[str, ChainStatus], relations: dict[str, str], scanned_key: str, chain: ChainReader
) -> list[StatusWarning]:
    warnings = []
    for key, status in statuses.items():
        if status.recalled:
            by = chain.participant(status.recalled_by) if status.recalled_by else None
            warnings.append(StatusWarning(
                key=key, relation=relations.get(key, "related"), kind="recalled", at=_iso(status.recalled_at),
                by=status.recalled_by, by_name=by.name if by else None, notice=chain.recall_notice(key),
            ))
    root = statuses.get(scanned_key)
    if root is not None and root.pack_status is not PackStatus.NONE:
        by = chain.participant(root.decommissioned_by) if root.decommissioned_by else None
        warnings.append(StatusWarning(
            key=scanned_key, relation="self", kind=root.pack_status.label, at=_iso(root.decommissioned_at),
            by=root.decommissioned_by, by_name=by.name if by else None,
        ))
    warnings.sort(key=lambda w: (w.kind != "recalled", w.relation != "self", w.key))
    return warnings


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _check_anchoring(unanchored: list[int], chain: ChainReader) -> Check:
    if not unanchored:
        return Check("anchoring", "pass", "every event is anchored on chain")
    covered = chain.latest_checkpoint_size()
    late = [i for i in unanchored if i < covered]
    note = (
        f"; the chain's newest checkpoint ({covered} records) already covers {', '.join(map(str, late))}: scan again"
        if late else "; anchoring runs every few seconds: scan again shortly"
    )
    return Check("anchoring", "partial",
                 f"{len(unanchored)} events not anchored yet (log indices {', '.join(map(str, unanchored))}){note}")


def _journey(events: list[ServedEvent], names: _Names, unanchored: set[int]) -> list[JourneyStep]:
    steps = []
    for item in events:
        if not item.content:
            continue
        event = item.event
        moment = instant(event.get("eventTime"))
        when = moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else str(event.get("eventTime"))
        biz_step = vocabulary_term(BIZ_STEP, event.get("bizStep"))
        step = str(biz_step) if biz_step else f"{event.get('type', 'event')} {event.get('action', '')}".strip()
        place = place_of(event)
        actor_id, actor = names.actors.get(item.log_index, (None, None))
        applies = item.entry.get("appliesTo")
        steps.append(JourneyStep(
            log_index=item.log_index, time=when, step=step,
            disposition=vocabulary_term(DISPOSITION, event.get("disposition")),
            place=names.places.get(place, place) if place else None, place_id=place, actor=actor, actor_id=actor_id,
            relation=str(item.entry.get("relation") or ""),
            keys=tuple(map(str, applies)) if isinstance(applies, list) else (),
            anchored=item.log_index not in unanchored,
        ))
    steps.sort(key=lambda s: (instant(s.time) or datetime.min.replace(tzinfo=UTC), s.log_index))
    return steps


def verify_trace(
    trace: Any, *, scanned_key: str, chain: ChainReader, evidence: EvidenceSource | None = None
) -> Verdict:
    """Verify the API's ``trace`` of ``scanned_key`` (a canonical trace key) against ``chain``.

    ``evidence`` fetches the evidence bundle of a capture record; without it
    the signatures go unchecked (partial). Never raises for anything the API
    sent: a malformed or lying answer is a failing check. Raises ChainError
    when the node stops answering (nothing can be concluded then).
    """
    chain.pin_head()
    if isinstance(trace, dict):
        events_check, events = _check_events(trace)
    else:  # still check the scanned key's recall and pack status on chain, below
        problem = f"the API answered a {type(trace).__name__}, not a trace object"
        trace, events, events_check = {}, [], Check("events", "fail", "the answer is not a trace", (problem,))
    subject_check = _check_subject(trace, scanned_key, events)
    inclusion_check, unanchored = _check_inclusion(events, chain)
    checkpoint_check, checkpoint = _check_checkpoint(trace, events, chain)
    signatures_check = _check_signatures(events, chain, evidence)
    actors_check, names = _check_actors(trace, events, chain)
    status_check, warnings = _check_status(trace, scanned_key, events, chain)
    anchoring_check = _check_anchoring(unanchored, chain)
    checks = {c.name: c for c in (events_check, subject_check, inclusion_check, checkpoint_check, signatures_check,
                                  actors_check, status_check, anchoring_check)}
    return Verdict(
        key=scanned_key,
        checks=tuple(checks[name] for name in CHECK_ORDER),
        journey=tuple(_journey(events, names, set(unanchored))),
        warnings=tuple(warnings),
        unanchored=tuple(unanchored),
        checkpoint=checkpoint,
        chain_id=chain.chain_id,
        block=chain.head,
    )
