"""Grade a subject from its facts with a rule set: transparent arithmetic, no model.

The score starts at the rule set's ``start``; every rule of the subject's
kind that holds adds its points; the score is kept within 0..100 and mapped
to a grade by the rule set's bands; the strictest ``cap`` of the rules that
held then lowers it. Each rule that held is a *factor* of the grade, shown
with its fact's value, the threshold, its effect and the fact's evidence;
the rules that did not hold are listed as *checks* (value and threshold), so
a reader sees what was looked at too.

:func:`grade_values` is the same computation from fact values alone: the
verifier of an export re-grades with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.credit.facts import Fact
from ledger.credit.rules import GRADES, Rule, RuleSet

SCORE_FLOOR, SCORE_CEILING = 0, 100


@dataclass(frozen=True)
class Outcome:
    score: float
    grade: str
    held: list[tuple[Rule, Any, float]]  # (rule, fact value, points applied)
    not_held: list[tuple[Rule, Any]]

    @property
    def caps(self) -> list[str]:
        return [rule.cap for rule, _, _ in self.held if rule.cap]


def grade_values(rules: RuleSet, kind: str, values: Mapping[str, Any]) -> Outcome:
    """Score and grade of a subject of ``kind`` whose facts have ``values`` (name -> value; missing: None)."""
    score = rules.start
    held: list[tuple[Rule, Any, float]] = []
    not_held: list[tuple[Rule, Any]] = []
    for rule in rules.for_subject(kind):
        value = values.get(rule.fact)
        if rule.holds(value):
            points = rule.points_for(value)
            score += points
            held.append((rule, value, points))
        else:
            not_held.append((rule, value))
    score = round(max(SCORE_FLOOR, min(SCORE_CEILING, score)), 2)
    grade = rules.grade_of(score)
    for rule, _, _ in held:
        if rule.cap and GRADES.index(rule.cap) > GRADES.index(grade):
            grade = rule.cap
    return Outcome(score, grade, held, not_held)


def grade(rules: RuleSet, kind: str, facts: Mapping[str, Fact]) -> dict[str, Any]:
    """The grade part of a profile: ``grade``, ``score``, ``factors`` (rules that held) and ``checks``."""
    outcome = grade_values(rules, kind, {name: fact.value for name, fact in facts.items()})
    factors = []
    for rule, value, points in outcome.held:
        fact = facts.get(rule.fact)
        evidence = fact.evidence() if fact is not None else []
        factors.append({
            "rule": rule.id,
            "description": {"zh": rule.zh, "en": rule.en},
            "fact": rule.fact,
            "value": value,
            "when": rule.when,
            "threshold": rule.threshold,
            "effect": {"points": points, "cap": rule.cap},
            "evidence": evidence,
            "evidenceTotal": fact.total if fact is not None else None,
        })
    checks = [{"rule": rule.id, "fact": rule.fact, "value": value, "when": rule.when, "threshold": rule.threshold,
               "description": {"zh": rule.zh, "en": rule.en}}
              for rule, value in outcome.not_held]
    return {"grade": outcome.grade, "score": outcome.score, "startScore": rules.start, "factors": factors,
            "checks": checks}
