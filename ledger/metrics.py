"""What the library counts, for Prometheus, and how far anchoring lags behind the log.

The counters live in the process-wide default registry; ``api.metrics``
serves them at ``GET /metrics`` with the HTTP metrics of the same process.
They are per process: with several replicas, Prometheus scrapes each one and
sums. The anchoring lag, on the contrary, is a fact about the shared index,
so it is read from the index when asked (:func:`read_anchoring_state`) and is
the same whichever replica answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import Engine

from ledger.errors import LedgerError

CAPTURE_EVENTS = Counter(
    "traceledger_capture_events",
    "Events in captures this process answered, by result: accepted (stored, or already in the log) or refused.",
    ["result"],
)
CAPTURE_REFUSALS = Counter(
    "traceledger_capture_refusals",
    "Captures this process refused, by reason class "
    "(invalid, too_large, unauthenticated, not_allowed, policy, replay, unavailable, other).",
    ["reason"],
)
CHECKPOINTS_ANCHORED = Counter(
    "traceledger_checkpoints_anchored",
    "Checkpoints this process anchored on chain (only the replica holding the anchoring lease anchors).",
)
ANCHOR_LEASE_HELD = Gauge(
    "traceledger_anchor_lease_held",
    "1 while this process holds the anchoring lease (is the one anchorer), else 0.",
)

# Refusals by the HTTP status their error carries; a policy refusal (a role
# the organisation lacks) is told apart from a revoked key or a suspended
# organisation, which share 403.
_REFUSAL_BY_STATUS = {400: "invalid", 401: "unauthenticated", 403: "not_allowed", 409: "replay", 413: "too_large"}

F = TypeVar("F", bound=Callable[..., Any])


def refusal_class(error: LedgerError) -> str:
    """The bounded label naming why a capture was refused."""
    from ledger.capture.errors import PolicyRefusedError  # here: the capture package imports this module

    if isinstance(error, PolicyRefusedError):
        return "policy"
    if error.http_status >= 500:
        return "unavailable"
    return _REFUSAL_BY_STATUS.get(error.http_status, "other")


def _event_count(document: Any) -> int:
    events = document.get("epcisBody", {}).get("eventList") if isinstance(document, Mapping) else None
    return len(events) if isinstance(events, list) else 0


def counted_capture(capture: F) -> F:
    """Decorate the capture service so each answer is counted.

    Precondition: ``capture`` takes the submission as the keyword argument
    ``submission`` (with a ``document``) and returns a result with ``events``
    and ``replayed``. A retried capture answered from its first result counts
    nothing again; a refusal counts its events and its reason class.
    """

    @functools.wraps(capture)
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            result = capture(*args, **kwargs)
        except LedgerError as error:
            CAPTURE_REFUSALS.labels(refusal_class(error)).inc()
            CAPTURE_EVENTS.labels("refused").inc(_event_count(getattr(kwargs.get("submission"), "document", None)))
            raise
        if not result.replayed:
            CAPTURE_EVENTS.labels("accepted").inc(len(result.events))
        return result

    return counted  # type: ignore[return-value]


@dataclass(frozen=True)
class AnchoringState:
    """How far the anchored checkpoints trail the log, read from the index.

    ``lag_seconds`` is the age of the oldest record not yet anchored (0 when
    everything is); ``checkpoint_age_seconds`` is None before the first
    checkpoint.
    """

    log_size: int
    anchored_size: int
    lag_seconds: float
    checkpoint_age_seconds: float | None

    @property
    def lag_leaves(self) -> int:
        return max(self.log_size - self.anchored_size, 0)


_log_size = sa.text('SELECT MAX("index") FROM log_leaf')
_latest_anchored = sa.text(
    "SELECT tree_size, anchored_at FROM checkpoint WHERE status = 'anchored' ORDER BY tree_size DESC LIMIT 1"
)
_leaf_created = sa.text('SELECT created_at FROM log_leaf WHERE "index" = :index')


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite through a text() query returns the stored text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_anchoring_state(engine: Engine, *, now: datetime | None = None) -> AnchoringState:
    """Three primary-key lookups: cheap enough for every scrape and readiness probe.

    Raises ``sqlalchemy.exc.SQLAlchemyError`` when the index is unreachable.
    """
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        last = conn.execute(_log_size).scalar()
        log_size = 0 if last is None else last + 1
        latest = conn.execute(_latest_anchored).first()
        anchored_size = latest[0] if latest else 0
        oldest = conn.execute(_leaf_created, {"index": anchored_size}).scalar() if log_size > anchored_size else None
    lag_seconds = max((now - _utc(oldest)).total_seconds(), 0.0) if oldest is not None else 0.0
    # A block clock ahead of the wall clock (the embedded chain's) reads as a fresh checkpoint, not a negative age.
    checkpoint_age = max((now - _utc(latest[1])).total_seconds(), 0.0) if latest and latest[1] is not None else None
    return AnchoringState(log_size, anchored_size, lag_seconds, checkpoint_age)
