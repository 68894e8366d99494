"""Who may record what: the role policy, by bizStep and disposition.

The first matching rule decides. ``producer_of_lot`` lets the participant
that commissioned the goods recall them without a regulator. The table is
printed in the README; keep the two in step (a test renders it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING as CUSTOMS_CLEARING

SUPPLY_CHAIN_ROLES = frozenset({
    "PRODUCER", "PROCESSOR", "DISTRIBUTOR", "RETAILER", "MANUFACTURER", "DISPENSER", "REGULATOR", "CUSTOMS",
})


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[Mapping[str, Any]], bool]
    roles: frozenset[str]
    producer_of_lot: bool = False
    description: str = ""


def _biz_step(event: Mapping[str, Any]) -> str | None:
    return event.get("bizStep")


def _disposition(event: Mapping[str, Any]) -> str | None:
    return event.get("disposition")


RULES: tuple[Rule, ...] = (
    Rule("recall", lambda e: _disposition(e) == "recalled", frozenset({"REGULATOR"}), producer_of_lot=True,
         description="disposition `recalled`"),
    Rule("commission", lambda e: _biz_step(e) == "commissioning", frozenset({"PRODUCER", "MANUFACTURER"}),
         description="bizStep `commissioning` (harvest lots, drug packs)"),
    Rule("dispense", lambda e: _biz_step(e) == "dispensing" or _disposition(e) in {"dispensed", "partially_dispensed"},
         frozenset({"DISPENSER"}), description="bizStep `dispensing`, disposition `dispensed`/`partially_dispensed`"),
    Rule("customs clearance", lambda e: _biz_step(e) == CUSTOMS_CLEARING, frozenset({"CUSTOMS"}),
         description=f"bizStep `{CUSTOMS_CLEARING}`"),
    Rule("any other event", lambda e: True, SUPPLY_CHAIN_ROLES, description="every other bizStep"),
)


def rule_for(event: Mapping[str, Any]) -> Rule:
    return next(rule for rule in RULES if rule.applies(event))


def policy_table_markdown() -> str:
    lines = ["| rule | applies to | allowed roles |", "|---|---|---|"]
    for rule in RULES:
        roles = ", ".join(sorted(rule.roles)) + (", or the producer of the lot" if rule.producer_of_lot else "")
        lines.append(f"| {rule.name} | {rule.description} | {roles} |")
    return "\n".join(lines)
