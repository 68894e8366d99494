"""Capture a signed EPCIS 2.0 document: validate, hash, authenticate, authorise,
append to the log, index.

Order of checks, and what each costs the submitter:

1. the document is valid EPCIS 2.0 (400 naming event and field; nothing stored);
2. the signature recovers the claimed key over the events' hash IDs and the
   nonce (401);
3. the key is registered, not revoked, its organisation active (401/403);
4. the nonce is new for that key (409), unless this is a retry of the very
   same capture, which returns the first capture's result;
5. each event's bizStep/disposition is allowed to the organisation's roles
   (403; the refusal is kept, with its reason, but no event is stored).

Then, in one transaction: a capture record (signer, nonce, signature, hash
IDs) and one record per new event are appended to the log, so anyone can
later prove who submitted each event without trusting the index; an event
already in the log (same hash ID) is not stored again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger.capture.authority import Signer, authorise_key
from ledger.capture.errors import CaptureReplayError, PolicyRefusedError
from ledger.capture.models import CaptureJob, CaptureState, EpcisEvent, EpcisEventEpc
from ledger.capture.policy import rule_for
from ledger.capture.projection import CAPTURE_KIND, EVENT_KIND, event_identifiers, event_row, identifier_rows
from ledger.capture.signing import SignatureError, SigningDomain, capture_digest, recover_signer
from ledger.epcis.hashid import event_hash_id
from ledger.epcis.validate import validate_document
from ledger.index.bulk import insert_rows
from ledger.index.db import write_session
from ledger.metrics import counted_capture
from ledger.records.append import NewRecord, log_writer
from ledger.records.encoding import canonical_json
from ledger.trace.indexing import StoredEvent, index_provenance

__all__ = ["CAPTURE_KIND", "EVENT_KIND", "CaptureResult", "Submission", "capture", "event_identifiers", "load_capture"]


@dataclass(frozen=True)
class Submission:
    document: Mapping[str, Any]
    signer: str
    nonce: int
    signature: str


@dataclass(frozen=True)
class CaptureResult:
    capture_id: str
    state: str
    reason: str | None
    events: list[dict[str, Any]]
    record_index: int | None
    replayed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "captureID": self.capture_id,
            "state": self.state,
            "reason": self.reason,
            "captureRecordIndex": self.record_index,
            "eventCount": len(self.events),
            "events": self.events,
        }


@counted_capture
def capture(*, engine: Engine, domain: SigningDomain, submission: Submission) -> CaptureResult:
    """Run the checks of the module docstring and store the capture."""
    raw_events = list(submission.document.get("epcisBody", {}).get("eventList", [])) if isinstance(submission.document, Mapping) else []
    normalised = validate_document(dict(submission.document))
    raw_events = raw_events[: len(normalised)]
    hash_ids = [event_hash_id(event) for event in raw_events]

    recovered = recover_signer(domain, hash_ids, submission.nonce, submission.signature)
    if recovered.lower() != submission.signer.lower():
        raise SignatureError(
            f"signature: made by {recovered}, not by the claimed signer {submission.signer} "
            "(wrong key, or the document changed after signing)"
        )
    digest = "0x" + capture_digest(domain, hash_ids, submission.nonce).hex()

    with Session(engine) as session:
        signer = authorise_key(session, recovered)
        earlier = session.exec(
            select(CaptureJob).where(CaptureJob.signer == signer.address, CaptureJob.nonce == str(submission.nonce))
        ).first()
        if earlier is not None:
            return _replay(earlier, digest)
        refusal = _policy_refusal(session, signer, normalised, hash_ids)

    capture_id = uuid.uuid4().hex
    if refusal is not None:
        _store_refusal(engine, capture_id, signer, submission, digest, refusal, len(normalised))
        raise PolicyRefusedError(capture_id, refusal)

    try:
        return _store(engine, capture_id, signer, submission, digest, raw_events, normalised, hash_ids)
    except IntegrityError:
        # A concurrent request with the same key and nonce won the race.
        with Session(engine) as session:
            earlier = session.exec(
                select(CaptureJob).where(CaptureJob.signer == signer.address, CaptureJob.nonce == str(submission.nonce))
            ).first()
        if earlier is None:
            raise
        return _replay(earlier, digest)


def _replay(earlier: CaptureJob, digest: str) -> CaptureResult:
    if earlier.digest != digest:
        raise CaptureReplayError(earlier.signer, earlier.nonce, earlier.id)
    if earlier.state == CaptureState.REFUSED:
        raise PolicyRefusedError(earlier.id, earlier.reason or "refused")
    return CaptureResult(earlier.id, earlier.state, earlier.reason, json.loads(earlier.results), earlier.record_index, replayed=True)


def _policy_refusal(session: Session, signer: Signer, events: Sequence[Mapping[str, Any]], hash_ids: Sequence[str]) -> str | None:
    for position, event in enumerate(events):
        rule = rule_for(event)
        if signer.roles & rule.roles:
            continue
        if rule.producer_of_lot and _commissioned_by(session, signer.participant_id, event):
            continue
        what = event.get("bizStep") or event.get("disposition") or event.get("type")
        allowed = " or ".join(sorted(rule.roles)) + (" (or the producer of the goods)" if rule.producer_of_lot else "")
        held = ", ".join(sorted(signer.roles)) or "no role"
        return (
            f"event {position} ({rule.name}: {what}) needs {allowed}; {signer.address} "
            f"of {signer.name} (GLN {signer.gln}) holds {held}"
        )
    from ledger.crossborder.check import claim_refusal  # trader claims vs the whitelist at eventTime (400 if malformed)

    return claim_refusal(session, signer, events)


def _commissioned_by(session: Session, participant_id: str, event: Mapping[str, Any]) -> bool:
    """True if every identifier of ``event`` was commissioned by ``participant_id``."""
    identifiers = {epc for epc, _ in event_identifiers(event)}
    if not identifiers:
        return False
    events = EpcisEvent.__table__
    epcs = EpcisEventEpc.__table__
    rows = session.connection().execute(
        sa.select(epcs.c.epc)
        .join(events, events.c.record_index == epcs.c.record_index)
        .where(epcs.c.epc.in_(identifiers), events.c.biz_step == "commissioning", events.c.participant_id == participant_id)
    )
    return identifiers <= {row[0] for row in rows}


def _store_refusal(engine: Engine, capture_id: str, signer: Signer, submission: Submission, digest: str, reason: str, count: int) -> None:
    with write_session(engine) as session:
        session.add(CaptureJob(
            id=capture_id, signer=signer.address, participant_id=signer.participant_id, nonce=str(submission.nonce),
            digest=digest, state=CaptureState.REFUSED, reason=reason, event_count=count, results="[]",
        ))


def _store(
    engine: Engine,
    capture_id: str,
    signer: Signer,
    submission: Submission,
    digest: str,
    raw_events: Sequence[Mapping[str, Any]],
    normalised: Sequence[Mapping[str, Any]],
    hash_ids: Sequence[str],
) -> CaptureResult:
    capture_body = {
        "captureID": capture_id,
        "signer": signer.address,
        "nonce": str(submission.nonce),
        "signature": submission.signature,
        "eventHashIDs": list(hash_ids),
    }
    with log_writer(engine) as writer:
        capture_record = writer.append([NewRecord(CAPTURE_KIND, capture_body)])[0]
        event_records = [
            NewRecord(
                EVENT_KIND,
                {"eventHashID": hash_id, "event": event, "captureRecord": capture_record.index, "signer": signer.address},
                dedup_key=hash_id,
            )
            for hash_id, event in zip(hash_ids, raw_events)
        ]
        appended = writer.append(event_records)
        event_rows: list[dict[str, Any]] = []
        epc_rows: list[dict[str, Any]] = []
        results = []
        provenance: list[StoredEvent] = []
        for position, (hash_id, event, outcome) in enumerate(zip(hash_ids, normalised, appended)):
            results.append({
                "index": position,
                "eventHashID": hash_id,
                "logIndex": outcome.index,
                "status": "stored" if outcome.created else "duplicate",
            })
            if not outcome.created:
                continue
            event_rows.append(event_row(hash_id=hash_id, record_index=outcome.index, capture_id=capture_id,
                                        signer=signer.address, participant_id=signer.participant_id, event=event))
            identifiers = event_identifiers(event)
            epc_rows.extend(identifier_rows(outcome.index, identifiers))
            provenance.append(StoredEvent(outcome.index, event, identifiers, signer.participant_id))
        connection = writer.session.connection()
        insert_rows(connection, EpcisEvent.__table__, event_rows)
        insert_rows(connection, EpcisEventEpc.__table__, epc_rows)
        index_provenance(connection, provenance)
        insert_rows(connection, CaptureJob.__table__, [{
            "id": capture_id, "signer": signer.address, "participant_id": signer.participant_id,
            "nonce": str(submission.nonce), "digest": digest, "state": CaptureState.STORED, "reason": None,
            "record_index": capture_record.index, "event_count": len(results), "results": canonical_json(results),
            "created_at": datetime.now(UTC),
        }])
    return CaptureResult(capture_id, CaptureState.STORED, None, results, capture_record.index)


def load_capture(session: Session, capture_id: str) -> CaptureResult:
    from ledger.errors import NotFoundError

    job = session.get(CaptureJob, capture_id)
    if job is None:
        raise NotFoundError(f"no capture {capture_id!r}")
    return CaptureResult(job.id, job.state, job.reason, json.loads(job.results), job.record_index)

