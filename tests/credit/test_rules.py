"""The rules file: its schema is enforced with messages naming the rule and key, an operator's
copy in the data dir wins and is re-read when edited, and the grade arithmetic is what it says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger.credit.errors import RulesError
from ledger.credit.facts import CATALOGUE
from ledger.credit.grade import grade_values
from ledger.credit.rules import PACKAGED_RULES, load_rules, parse_rules

HEAD = 'version = "t1"\n[grades]\nA = 85\nB = 70\nC = 50\n'


def rule(**fields: object) -> str:
    base = {"id": "R1", "subject": "participant", "fact": "recalls.imposed", "when": ">=", "threshold": 1,
            "points": -10, "zh": "测试", "en": "test"}
    base.update(fields)
    lines = [f"{key} = {_toml(value)}" for key, value in base.items() if value is not None]
    return "[[rule]]\n" + "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_the_packaged_rules_are_valid_and_use_known_facts() -> None:
    rules = load_rules()
    assert rules.version == "1.0.0" and rules.source == "packaged default" and len(rules.sha256) == 64
    for item in rules.rules:
        assert CATALOGUE[item.fact].subject == item.subject
    assert {item.subject for item in rules.rules} == {"participant", "trader"}


@pytest.mark.parametrize(("text", "fragment"), [
    (HEAD + rule(fact="recalls.sometimes"), "rule R1, key fact: unknown fact 'recalls.sometimes'"),
    (HEAD + rule(fact="whitelist.revocations"), "rule R1, key fact: whitelist.revocations is a fact of a trader"),
    (HEAD + rule(colour="red"), "rule R1, key colour: unknown key"),
    (HEAD + rule(cap="E"), "rule R1, key cap: must be one of A, B, C, D"),
    (HEAD + rule(when="=>"), "rule R1, key when: must be one of"),
    (HEAD + rule(threshold=None), "rule R1, key threshold: is required"),
    (HEAD + rule(fact="registry.active", threshold=1), "rule R1, key threshold: registry.active is true or false"),
    (HEAD + rule(fact="whitelist.level", subject="trader", threshold=2), "whitelist.level is a name"),
    (HEAD + rule(points=0), "rule R1: has no effect"),
    (HEAD + rule(en=""), "rule R1, key en: must be a non-empty text"),
    (HEAD + rule() + rule(), "rule R1: the id is used twice"),
    (HEAD + rule(id="bad id"), "rule #1, key id"),
    ('version = "t"\n[grades]\nA = 50\nB = 70\nC = 40\n', "each grade needs a higher score than the next"),
    ('[grades]\nA = 85\nB = 70\nC = 50\n', "key version: must be a non-empty text"),
    ("version = ", "not valid TOML"),
])
def test_a_broken_rules_file_names_the_rule_and_key(text: str, fragment: str) -> None:
    with pytest.raises(RulesError) as failure:
        parse_rules(text, source="test.toml")
    assert fragment in failure.value.message, failure.value.message


def test_an_operator_copy_in_the_data_dir_wins_and_is_reread_when_edited(tmp_path: Path) -> None:
    assert load_rules(data_dir=tmp_path).source == "packaged default"
    copy = tmp_path / "credit-rules.toml"
    copy.write_text(PACKAGED_RULES.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "local-1"'))
    assert load_rules(data_dir=tmp_path).version == "local-1"
    copy.write_text(copy.read_text().replace('"local-1"', '"local-2"'))
    os.utime(copy, ns=(1, 2_000_000_000_000_000_000))  # a different modification time, whatever the clock's grain
    reloaded = load_rules(data_dir=tmp_path)
    assert reloaded.version == "local-2" and reloaded.source == str(copy)


def test_a_missing_explicit_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "nowhere.toml")


def test_points_are_bounded_by_the_limit_and_the_score_by_0_and_100() -> None:
    rules = parse_rules(HEAD + rule(points=0, points_per_unit=-20, limit=45) +
                        rule(id="R2", fact="packs.rescanned_after_dispensing", points=-80), source="t")
    outcome = grade_values(rules, "participant", {"recalls.imposed": 5, "packs.rescanned_after_dispensing": 1})
    assert [points for _, _, points in outcome.held] == [-45, -80]
    assert (outcome.score, outcome.grade) == (0, "D")
    assert grade_values(rules, "participant", {"recalls.imposed": 1}).score == 80


def test_the_strictest_cap_wins_and_a_missing_value_holds_no_rule() -> None:
    rules = parse_rules(HEAD + rule(points=0, cap="B") + rule(id="R2", fact="registry.active", when="==",
                                                              threshold=False, points=0, cap="D")
                        + rule(id="R3", fact="anchoring.delay_max_s", when=">", threshold=10, points=-50), source="t")
    outcome = grade_values(rules, "participant", {"recalls.imposed": 2, "registry.active": False,
                                                   "anchoring.delay_max_s": None})
    assert (outcome.score, outcome.grade, outcome.caps) == (100, "D", ["B", "D"])
    assert [r.id for r, _ in outcome.not_held] == ["R3"]
