"""Build credit profiles: gather the facts, grade them, lay out the timeline.

:func:`build_profiles` profiles many participants with the same queries
(every gatherer reads all of them at once, 500 ids per statement), so a
report over a thousand participants costs a fixed number of statements, not a
thousand times as many; :func:`build_profile` is the one-subject case and the
only way to profile a trader. All reads run in one transaction of the
connection, so a profile is one consistent snapshot of the index.

A profile (JSON)::

    {"format": "traceledger-credit-profile/v1",
     "subject": {...}, "grade": "B", "score": 75, "startScore": 100,
     "rules": {"version", "title", "sha256", "source"},
     "factors": [{"rule", "description": {"zh", "en"}, "fact", "value", "when", "threshold",
                  "effect": {"points", "cap"}, "evidence": [...], "evidenceTotal"}],
     "checks": [...rules that did not hold...],
     "facts": {name: {"value", "total", "complete", "items": [{..., "evidence": [...]}], ...}},
     "timeline": {"granularity": "day"|"month", "periods": [...], "series": {name: [counts]}},
     "asOf": {"time", "logSize", "checkpoint", "contracts"}}
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.bundle import checkpoint_json
from ledger.credit import activity, anchoring, packs, recalls, refusals, registry, trader
from ledger.credit.facts import Fact, Findings, Gathering
from ledger.credit.grade import grade
from ledger.credit.rules import RuleSet
from ledger.credit.sql import DAY, MONTH
from ledger.credit.subjects import PARTICIPANT, Subject
from ledger.log.models import LogLeaf
from ledger.trace.evidence import latest_anchored_checkpoint

PROFILE_FORMAT = "traceledger-credit-profile/v1"
DAYS_SHOWN = 62
"""A timeline spanning more days than this is drawn by month."""

PARTICIPANT_GATHERERS = (activity.gather, refusals.gather, anchoring.gather, registry.gather, recalls.gather,
                         packs.gather)


def _as_of(conn: Connection, contracts: Mapping[str, str], now: float) -> dict[str, Any]:
    last = conn.execute(sa.select(sa.func.max(LogLeaf.__table__.c.index))).scalar()
    checkpoint = latest_anchored_checkpoint(conn)
    return {
        "time": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "logSize": 0 if last is None else last + 1,
        "checkpoint": checkpoint_json(checkpoint) if checkpoint is not None else None,
        "contracts": dict(contracts),
    }


def timeline(series: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """Counts per period for each series, day by day, or month by month over a longer span; gaps are zeros."""
    days = sorted({day for counts in series.values() for day in counts})
    if not days:
        return {"granularity": DAY, "periods": [], "series": {}}
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    if (last - first).days < DAYS_SHOWN:
        periods = [date.fromordinal(n).isoformat() for n in range(first.toordinal(), last.toordinal() + 1)]
        granularity, cut = DAY, 10
    else:
        granularity, cut = MONTH, 7
        periods, (year, month) = [], (first.year, first.month)
        while (year, month) <= (last.year, last.month):
            periods.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    position = {period: n for n, period in enumerate(periods)}
    out: dict[str, list[int]] = {}
    for name, counts in series.items():
        values = [0] * len(periods)
        for day, n in counts.items():
            values[position[day[:cut]]] += n
        out[name] = values
    return {"granularity": granularity, "periods": periods, "series": out}


def _assemble(subject: Subject, facts: Sequence[Fact], series: Mapping[str, Mapping[str, int]], rules: RuleSet,
              as_of: dict[str, Any]) -> dict[str, Any]:
    by_name = {fact.name: fact for fact in facts}
    return {
        "format": PROFILE_FORMAT,
        "subject": subject.to_json(),
        **grade(rules, subject.kind, by_name),
        "rules": rules.describe(),
        "facts": {name: fact.to_json() for name, fact in by_name.items()},
        "timeline": timeline(series),
        "asOf": as_of,
    }


@contextmanager
def _collector_paused(many: bool) -> Iterator[None]:
    """Keep the cyclic garbage collector from running while many profiles are built.

    A batch allocates millions of small objects that all stay alive until it
    returns; each full collection would rescan them all (measured: twice the
    batch's time). Any cycle is collected once it runs again.
    """
    paused = many and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def build_profiles(conn: Connection, subjects: Sequence[Subject], *, rules: RuleSet, contracts: Mapping[str, str],
                   now: float | None = None) -> list[dict[str, Any]]:
    """The profiles of ``subjects`` (participants and traders), in the order given."""
    with _collector_paused(len(subjects) > 1):
        return _build(conn, subjects, rules, contracts, time.time() if now is None else now)


def _build(conn: Connection, subjects: Sequence[Subject], rules: RuleSet, contracts: Mapping[str, str],
           moment: float) -> list[dict[str, Any]]:
    if not conn.in_transaction():
        conn.begin()  # one snapshot for every statement
    as_of = _as_of(conn, contracts, moment)
    participants = [s for s in subjects if s.kind == PARTICIPANT]
    found = Findings()
    if participants:
        job = Gathering([s.id for s in participants], rules.max_per_fact, dict(contracts), moment)
        for gather in PARTICIPANT_GATHERERS:
            found.merge(gather(conn, job))
    for subject in subjects:
        if subject.kind != PARTICIPANT:
            job = Gathering([subject.id], rules.max_per_fact, dict(contracts), moment)
            found.merge(trader.gather(conn, subject.id, job))
    return [_assemble(s, found.facts.get(s.id, []), found.series.get(s.id, {}), rules, as_of) for s in subjects]


def build_profile(conn: Connection, subject: Subject, *, rules: RuleSet, contracts: Mapping[str, str],
                  now: float | None = None) -> dict[str, Any]:
    """The profile of one participant or trader."""
    return build_profiles(conn, [subject], rules=rules, contracts=contracts, now=now)[0]
