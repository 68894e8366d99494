"""A profile export: the profile plus everything a verifier needs to re-check it.

::

    {"format": "traceledger-credit-export/v1",
     "profile": {... the profile ...},
     "rules": {"version", "sha256", "text"},          # the rules file that graded it, verbatim
     "checkpoint": {... as /v1/checkpoints/latest ...}, # the checkpoint every proof leads to
     "records": [{"index", "kind", "body", "leafHash", "inclusionProof"}]}

``records`` holds the log record of every event the profile cites, with its
inclusion proof against ``checkpoint`` (made in one batch by
:func:`ledger.trace.evidence.attach_proofs`); an event appended after that
checkpoint has ``inclusionProof: null`` and the verifier says it cannot be
proven yet. Chain facts (transactions, checkpoints) are named in the profile
itself by transaction hash, block and log index: the verifier reads them from
the node. ``traceledger verify EXPORT.json`` checks it
(:func:`ledger.credit.verify.verify_export`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from ledger.credit.evidence import EVENT
from ledger.credit.profile import build_profile
from ledger.credit.rules import RuleSet
from ledger.credit.sql import chunks, select_rows
from ledger.credit.subjects import resolve_subject
from ledger.trace.evidence import attach_proofs

EXPORT_FORMAT = "traceledger-credit-export/v1"

_RECORDS = 'SELECT "index", kind, body FROM "record" WHERE "index" IN :indices ORDER BY "index"'


def cited(profile: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every evidence link of a profile: those of its facts' occurrences and of its factors."""
    for fact in profile["facts"].values():
        for item in fact["items"]:
            yield from item.get("evidence", ())
    for factor in profile["factors"]:
        yield from factor["evidence"]


def export_profile(conn: Connection, profile: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """The export of ``profile`` (graded by ``rules``), with the records and proofs of every cited event."""
    indices = sorted({ref["logIndex"] for ref in cited(profile) if ref.get("kind") == EVENT})
    events = []
    for some in chunks(indices):
        for index, kind, body in select_rows(conn, _RECORDS, lists=("indices",), indices=some):
            events.append({"logIndex": index, "record": {"index": index, "kind": kind, "body": body}})
    proven = attach_proofs(conn, {"events": events})
    return {
        "format": EXPORT_FORMAT,
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "profile": profile,
        "rules": {"version": rules.version, "sha256": rules.sha256, "text": rules.text},
        "checkpoint": proven["checkpoint"],
        "records": [{**event["record"], "leafHash": event["leafHash"], "inclusionProof": event["inclusionProof"]}
                    for event in proven["events"]],
    }


def export_credit_profile(*, engine: Engine, contracts: dict[str, str], subject_id: str, rules: RuleSet,
                          now: float | None = None) -> dict[str, Any]:
    """Profile ``subject_id`` and export it, in one snapshot of the index."""
    with engine.connect() as conn, conn.begin():
        subject = resolve_subject(conn, subject_id)
        profile = build_profile(conn, subject, rules=rules, contracts=contracts, now=now)
        return export_profile(conn, profile, rules)
