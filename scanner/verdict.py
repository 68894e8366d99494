"""What the scanner concludes about a trace: named checks, the journey it can vouch for, status warnings.

Each named check (see :mod:`scanner.verify`) is passing, failing (the API
lied or is broken) or partial (something could not be checked yet); the
verdict is ``NOT VERIFIED`` if one fails, ``PARTLY VERIFIED`` if one is
partial, ``VERIFIED`` otherwise.

A recall or a decommissioned pack is a *verified warning*, not a failure:
the verdict says ``VERIFIED — RECALLED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ledger.bundle import ChainCheckpoint

__all__ = ["Check", "JourneyStep", "Outcome", "StatusWarning", "Verdict"]

Outcome = Literal["pass", "fail", "partial"]


@dataclass(frozen=True)
class Check:
    """One named check: ``outcome`` pass, fail (with ``problems``) or partial (what was not checked)."""

    name: str
    outcome: Outcome
    detail: str
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "detail": self.detail, "problems": list(self.problems)}


@dataclass(frozen=True)
class JourneyStep:
    """One event of the journey, as its verified record says it (names read from the chain)."""

    log_index: int
    time: str
    step: str
    disposition: str | None
    place: str | None
    place_id: str | None
    actor: str | None
    actor_id: str | None
    relation: str
    keys: tuple[str, ...]
    anchored: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "logIndex": self.log_index, "time": self.time, "step": self.step, "disposition": self.disposition,
            "place": self.place, "placeId": self.place_id, "actor": self.actor, "actorId": self.actor_id,
            "relation": self.relation, "keys": list(self.keys), "anchored": self.anchored,
        }


@dataclass(frozen=True)
class StatusWarning:
    """A recall in force, or a pack that left the supply chain, as the chain records it."""

    key: str
    relation: str
    kind: str
    """``recalled``, or the pack status: ``dispensed``, ``stolen``, ``destroyed``."""
    at: str | None
    by: str | None
    by_name: str | None
    notice: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "relation": self.relation, "kind": self.kind, "at": self.at, "by": self.by,
                "byName": self.by_name, "notice": self.notice}

    def describe(self) -> str:
        who = f" by {self.by_name or self.by}" if (self.by_name or self.by) else ""
        when = f" on {self.at}" if self.at else ""
        what = f"{self.relation} {self.key}" if self.relation != "self" else self.key
        text = f"{self.kind.upper()}: {what}{who}{when}"
        return f"{text}: {self.notice}" if self.notice else text


@dataclass(frozen=True)
class Verdict:
    """What the scanner concludes, check by check, and the journey it can vouch for."""

    key: str
    checks: tuple[Check, ...]
    journey: tuple[JourneyStep, ...] = ()
    warnings: tuple[StatusWarning, ...] = ()
    unanchored: tuple[int, ...] = ()
    checkpoint: ChainCheckpoint | None = None
    chain_id: int | None = None
    block: int | None = None

    @property
    def status(self) -> Literal["VERIFIED", "PARTLY VERIFIED", "NOT VERIFIED"]:
        outcomes = {check.outcome for check in self.checks}
        if "fail" in outcomes:
            return "NOT VERIFIED"
        return "PARTLY VERIFIED" if "partial" in outcomes else "VERIFIED"

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.outcome == "fail")

    @property
    def reason(self) -> str | None:
        """Why the trace is not verified: the first problem of the first failing check (None if none fails)."""
        if not self.failed:
            return None
        first = self.failed[0]
        more = sum(len(check.problems) or 1 for check in self.failed) - 1
        text = f"{first.name}: {first.problems[0] if first.problems else first.detail}"
        return f"{text} (and {more} more problem{'s' if more != 1 else ''})" if more else text

    @property
    def headline(self) -> str:
        """``VERIFIED``, ``VERIFIED — RECALLED``, ``PARTLY VERIFIED — DISPENSED``, ``NOT VERIFIED: <reason>``."""
        if self.status == "NOT VERIFIED":
            return f"NOT VERIFIED: {self.reason}"
        flags = list(dict.fromkeys(warning.kind.upper() for warning in self.warnings))
        return " — ".join([self.status, ", ".join(flags)]) if flags else self.status

    def to_json(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "verdict": self.status,
            "headline": self.headline,
            "reason": self.reason,
            "key": self.key,
            "chainId": self.chain_id,
            "block": self.block,
            "checkpoint": None if cp is None else {
                "treeSize": cp.tree_size, "rootHash": "0x" + cp.root_hash.hex(), "blockNumber": cp.block_number,
                "anchoredAt": _iso_seconds(cp.timestamp),
            },
            "checks": [check.to_json() for check in self.checks],
            "warnings": [warning.to_json() for warning in self.warnings],
            "unanchored": list(self.unanchored),
            "journey": [step.to_json() for step in self.journey],
        }


def _iso_seconds(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
