"""The README's role policy table is the one the code enforces."""

from pathlib import Path

from ledger.capture.policy import CUSTOMS_CLEARING, policy_table_markdown, rule_for


def test_readme_prints_the_enforced_policy() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert policy_table_markdown() in readme


def test_rules_pick_the_intended_roles() -> None:
    assert rule_for({"bizStep": "commissioning"}).roles == {"PRODUCER", "MANUFACTURER"}
    assert rule_for({"bizStep": "dispensing"}).roles == {"DISPENSER"}
    assert rule_for({"bizStep": "shipping", "disposition": "dispensed"}).roles == {"DISPENSER"}
    assert rule_for({"bizStep": "holding", "disposition": "recalled"}).producer_of_lot
    assert rule_for({"bizStep": CUSTOMS_CLEARING}).roles == {"CUSTOMS"}
    assert "AUDITOR" not in rule_for({"bizStep": "shipping"}).roles
