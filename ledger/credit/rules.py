"""The grading rules: one versioned TOML file an operator can read and change without code.

Where the rules come from, first found wins: a file given explicitly (CLI
``--rules``), ``<data dir>/credit-rules.toml``, else the packaged default
``ledger/credit/rules.toml``. A profile names the rules' ``version`` and the
SHA-256 of the file's bytes; an export carries the file itself, so a verifier
re-grades with exactly the rules that graded.

Schema (every key checked when the file is loaded; a mistake is a
:class:`RulesError` naming the rule and the key)::

    version = "1.0.0"                 # required, any non-empty text
    title = "..."                     # optional
    [score]  start = 100              # the score before any rule
    [grades] A = 85  B = 70  C = 50   # lowest score of each grade; below the last: D
    [evidence] max_per_fact = 25      # occurrences listed per fact (counts stay exact)
    [[rule]]
    id = "P-RECALL-IMPOSED"           # unique; letters, digits, '-', '.', '_'
    subject = "participant"           # or "trader"
    fact = "recalls.imposed"          # a fact of ledger.credit.facts.CATALOGUE for that subject
    when = ">="                       # >=, >, <=, <, ==, !=
    threshold = 1                     # a number (counts, shares, seconds), true/false, or a name
    points = -10                      # optional: added once when the rule holds
    points_per_unit = -5              # optional: times the value (numeric facts)
    limit = 30                        # optional: bound on |points| of this rule
    cap = "C"                         # optional: the grade is at most this when the rule holds
    zh = "..."  en = "..."            # what the rule means, shown with the grade

A rule whose fact has no value (e.g. a delay when nothing was anchored)
does not hold.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.credit.errors import RulesError
from ledger.credit.facts import CATALOGUE, COUNT, FLAG, NAME, NUMERIC

PACKAGED_RULES = Path(__file__).with_name("rules.toml")
DATA_DIR_RULES = "credit-rules.toml"
GRADES = ("A", "B", "C", "D")
OPERATORS = (">=", ">", "<=", "<", "==", "!=")
SUBJECTS = ("participant", "trader")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RULE_KEYS = {"id", "subject", "fact", "when", "threshold", "points", "points_per_unit", "limit", "cap", "zh", "en"}
_TOP_KEYS = {"version", "title", "score", "grades", "evidence", "rule"}


@dataclass(frozen=True)
class Rule:
    id: str
    subject: str
    fact: str
    when: str
    threshold: Any
    points: float
    points_per_unit: float
    limit: float | None
    cap: str | None
    zh: str
    en: str

    def holds(self, value: Any) -> bool:
        if value is None:
            return False
        threshold = self.threshold
        match self.when:
            case ">=":
                return value >= threshold
            case ">":
                return value > threshold
            case "<=":
                return value <= threshold
            case "<":
                return value < threshold
            case "==":
                return value == threshold
            case _:
                return value != threshold

    def points_for(self, value: Any) -> float:
        """The points this rule adds when it holds for ``value``."""
        points = self.points + (self.points_per_unit * value if self.points_per_unit else 0)
        if self.limit is not None:
            points = max(-self.limit, min(self.limit, points))
        return round(points, 4)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "subject": self.subject, "fact": self.fact, "when": self.when,
                "threshold": self.threshold, "points": self.points, "pointsPerUnit": self.points_per_unit,
                "limit": self.limit, "cap": self.cap, "description": {"zh": self.zh, "en": self.en}}


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str
    start: float
    bands: tuple[tuple[str, float], ...]  # (grade, lowest score), best first; below the last: D
    max_per_fact: int
    rules: tuple[Rule, ...]
    text: str
    sha256: str
    source: str

    def for_subject(self, kind: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.subject == kind)

    def grade_of(self, score: float) -> str:
        for grade, lowest in self.bands:
            if score >= lowest:
                return grade
        return GRADES[-1]

    def describe(self) -> dict[str, Any]:
        """What a profile says about the rules that graded it."""
        return {"version": self.version, "title": self.title, "sha256": self.sha256, "source": self.source}


def _fail(where: str, problem: str) -> RulesError:
    return RulesError(f"credit rules {where}: {problem}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"must be a number, got {value!r}")
    return float(value) if isinstance(value, float) else int(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be a non-empty text")
    return value.strip()


def _rule(raw: Any, position: int, seen: set[str]) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(f"rule #{position + 1}", "must be a table ([[rule]])")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise _fail(f"rule #{position + 1}, key id", f"must be 1-64 letters, digits, '.', '-' or '_', got {rule_id!r}")
    where = f"rule {rule_id}"
    if rule_id in seen:
        raise _fail(where, "the id is used twice")
    seen.add(rule_id)
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise _fail(f"{where}, key {unknown[0]}", f"unknown key; known: {', '.join(sorted(_RULE_KEYS))}")
    subject = raw.get("subject")
    if subject not in SUBJECTS:
        raise _fail(f"{where}, key subject", f"must be one of {', '.join(SUBJECTS)}, got {subject!r}")
    fact = raw.get("fact")
    spec = CATALOGUE.get(fact) if isinstance(fact, str) else None
    if spec is None:
        known = ", ".join(name for name, s in CATALOGUE.items() if s.subject == subject)
        raise _fail(f"{where}, key fact", f"unknown fact {fact!r}; facts of a {subject}: {known}")
    if spec.subject != subject:
        raise _fail(f"{where}, key fact", f"{fact} is a fact of a {spec.subject}, not of a {subject}")
    when = raw.get("when")
    if when not in OPERATORS:
        raise _fail(f"{where}, key when", f"must be one of {' '.join(OPERATORS)}, got {when!r}")
    if "threshold" not in raw:
        raise _fail(f"{where}, key threshold", "is required")
    threshold = raw["threshold"]
    if spec.type in NUMERIC:
        threshold = _number(threshold, f"{where}, key threshold")
    elif spec.type == FLAG and (not isinstance(threshold, bool) or when not in ("==", "!=")):
        raise _fail(f"{where}, key threshold", f"{fact} is true or false: compare it with == or != to true/false")
    elif spec.type == NAME and (not isinstance(threshold, str) or when not in ("==", "!=")):
        raise _fail(f"{where}, key threshold", f"{fact} is a name: compare it with == or != to a text")
    points = _number(raw.get("points", 0), f"{where}, key points")
    per_unit = _number(raw.get("points_per_unit", 0), f"{where}, key points_per_unit")
    if per_unit and spec.type not in NUMERIC:
        raise _fail(f"{where}, key points_per_unit", f"{fact} is not a number")
    limit = raw.get("limit")
    if limit is not None:
        limit = _number(limit, f"{where}, key limit")
        if limit <= 0:
            raise _fail(f"{where}, key limit", "must be above 0")
    cap = raw.get("cap")
    if cap is not None and cap not in GRADES:
        raise _fail(f"{where}, key cap", f"must be one of {', '.join(GRADES)}, got {cap!r}")
    if not points and not per_unit and cap is None:
        raise _fail(where, "has no effect: give points, points_per_unit or cap")
    return Rule(rule_id, subject, fact, when, threshold, points, per_unit, limit, cap,
                _text(raw.get("zh"), f"{where}, key zh"), _text(raw.get("en"), f"{where}, key en"))


def parse_rules(text: str, *, source: str) -> RuleSet:
    """The rule set in ``text`` (TOML), checked against the schema of the module docstring."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(f"in {source}", f"not valid TOML: {error}") from None
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise _fail(f"in {source}, key {unknown[0]}", f"unknown key; known: {', '.join(sorted(_TOP_KEYS))}")
    version = _text(raw.get("version"), f"in {source}, key version")
    start = _number((raw.get("score") or {}).get("start", 100), f"in {source}, key score.start")
    grades = raw.get("grades") or {}
    if set(grades) != set(GRADES[:-1]):
        raise _fail(f"in {source}, table grades", f"must give the lowest score of {', '.join(GRADES[:-1])} (below: D)")
    bands = tuple((g, _number(grades[g], f"in {source}, key grades.{g}")) for g in GRADES[:-1])
    if any(bands[i][1] <= bands[i + 1][1] for i in range(len(bands) - 1)):
        raise _fail(f"in {source}, table grades", "each grade needs a higher score than the next (A > B > C)")
    max_per_fact = (raw.get("evidence") or {}).get("max_per_fact", 25)
    if isinstance(max_per_fact, bool) or not isinstance(max_per_fact, int) or not 1 <= max_per_fact <= 10_000:
        raise _fail(f"in {source}, key evidence.max_per_fact", f"must be a whole number from 1 to 10000, got {max_per_fact!r}")
    raw_rules = raw.get("rule") or []
    if not isinstance(raw_rules, list):
        raise _fail(f"in {source}, key rule", "must be an array of tables ([[rule]])")
    seen: set[str] = set()
    rules = tuple(_rule(item, position, seen) for position, item in enumerate(raw_rules))
    return RuleSet(version, str(raw.get("title") or ""), start, bands, max_per_fact, rules, text,
                   hashlib.sha256(text.encode("utf-8")).hexdigest(), source)


_loaded: dict[Path, tuple[tuple[int, int], RuleSet]] = {}


def load_rules(path: Path | None = None, *, data_dir: Path | None = None) -> RuleSet:
    """The rule set from ``path``, else ``<data_dir>/credit-rules.toml`` if present, else the packaged one.

    Re-read when the file changes (size or modification time), so an
    operator's edit applies to the next profile without a restart.
    """
    if path is None:
        candidate = data_dir / DATA_DIR_RULES if data_dir is not None else None
        path = candidate if candidate is not None and candidate.is_file() else PACKAGED_RULES
    try:
        stat = path.stat()
    except OSError as error:
        raise RulesError(f"credit rules: cannot read {path}: {error.strerror}") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulesError(f"credit rules: cannot read {path}: {error}") from None
    rules = parse_rules(text, source="packaged default" if path == PACKAGED_RULES else str(path))
    _loaded[path] = (stamp, rules)
    return rules


__all__ = ["COUNT", "GRADES", "PACKAGED_RULES", "Rule", "RuleSet", "load_rules", "parse_rules"]
