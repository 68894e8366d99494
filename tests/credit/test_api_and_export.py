"""The credit routes, the bilingual page, and the verifiable export: it verifies against the
chain, and any tampering (a record, a fact, the grade, the rules, a transaction) is caught."""

from __future__ import annotations

import copy
import json
from html import escape

import pytest

from ledger.credit.errors import ProfileExportError
from ledger.credit.verify import verify_export
from ledger.gs1 import with_check_digit
from tests.credit.scenario import TRADERS

pytestmark = pytest.mark.anvil


def get(node, path: str, **headers: str):
    return node.http.get(path, headers=headers)


def test_a_profile_by_gln_by_id_and_a_trader_by_uscc(node) -> None:
    by_gln = get(node, f"/v1/participants/{node.gln('carrier')}/credit")
    assert by_gln.status_code == 200
    by_id = get(node, f"/v1/participants/{node.participant_id('carrier')}/credit").json()
    body = by_gln.json()
    assert body["subject"]["gln"] == node.gln("carrier") and body["subject"]["id"] == node.participant_id("carrier")
    assert (body["grade"], body["score"]) == (by_id["grade"], by_id["score"]) == ("B", 70)
    trader = get(node, f"/v1/participants/{TRADERS['troubled']}/credit").json()
    assert trader["subject"]["kind"] == "trader" and trader["grade"] == "B"


@pytest.mark.parametrize(("subject", "status", "fragment"), [
    ("0x1234", 400, "id: '0x1234' is not a participant id"),
    ("9521000000019", 400, "id: GLN 9521000000019 has check digit 9, expected"),
    ("hello", 400, "id: 'hello' is neither"),
    ("91350200000000300I", 400, "id: character 'I' at position 18"),
    (with_check_digit("952100000099"), 404, "no participant is registered under GLN"),
    ("0x" + "ab" * 32, 404, "no participant 0x"),
])
def test_a_bad_or_unknown_id_is_a_4xx_naming_the_field(node, subject: str, status: int, fragment: str) -> None:
    response = get(node, f"/v1/participants/{subject}/credit")
    assert response.status_code == status and fragment in response.json()["detail"], response.json()
    page = get(node, f"/v1/participants/{subject}/credit/page?lang=zh")
    assert page.status_code == status and escape(fragment) in page.text and 'lang="zh-CN"' in page.text


def test_the_page_in_english_and_chinese(node) -> None:
    path = f"/v1/participants/{node.gln('carrier')}/credit/page"
    en = get(node, path, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert en.status_code == 200 and en.headers["content-language"] == "en"
    assert 'id="credit-grade">B<' in en.text and "What moved the grade" in en.text
    assert "It recorded packs already dispensed or decommissioned" in en.text  # P-RESCAN, in English
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in en.text and "Events recorded" in en.text
    assert "/v1/records/" in en.text and "/credit/export" in en.text
    zh = get(node, path, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-CN"' in zh.text and "影响等级的因素" in zh.text and "已配药或已注销的药盒仍在流通" in zh.text
    assert f'href="{path}?lang=en"' in zh.text  # the switch keeps the path
    assert get(node, path + "?lang=en", **{"Accept-Language": "zh-CN"}).headers["content-language"] == "en"


def test_the_page_escapes_what_the_index_holds(node) -> None:
    page = get(node, f"/v1/participants/{TRADERS['aeo']}/credit/page?lang=en").text
    assert "Xiamen Harbour &lt;Trading&gt; &amp; Co." in page and "<Trading>" not in page


def test_the_rules_route_names_version_hash_and_rules(node) -> None:
    rules = get(node, "/v1/credit/rules").json()
    assert rules["version"] == "1.0.0" and len(rules["sha256"]) == 64 and rules["grades"] == {"A": 85, "B": 70, "C": 50}
    assert {"P-RECALL-IMPOSED", "T-REVOKED-NOW"} <= {rule["id"] for rule in rules["rules"]}
    profile = get(node, f"/v1/participants/{node.gln('shop')}/credit").json()
    assert profile["rules"]["sha256"] == rules["sha256"]


@pytest.fixture(scope="module")
def exported(node) -> dict:
    response = get(node, f"/v1/participants/{node.gln('carrier')}/credit/export")
    assert response.status_code == 200
    return response.json()


def test_an_export_verifies_against_the_chain(node, exported: dict) -> None:
    assert all(record["inclusionProof"] is not None for record in exported["records"])
    verdict = verify_export(exported, node.ledger.chain, trusted=node.ledger.manifest.contracts)
    assert verdict.grade == "B" and verdict.events >= 4 and verdict.transactions >= 2 and verdict.checkpoints >= 1
    assert verdict.refusals == 1 and "the index's word" in verdict.summary()


def test_a_trader_export_verifies(node) -> None:
    export = get(node, f"/v1/participants/{TRADERS['troubled']}/credit/export").json()
    verdict = verify_export(export, node.ledger.chain)
    # The suspension, the change to DISHONEST (a downgrade and a dishonest spell), the repair (the entry now).
    assert (verdict.transactions, verdict.events, verdict.grade) == (3, 0, "B")


def tampered(exported: dict, change) -> dict:
    copy_ = copy.deepcopy(exported)
    change(copy_)
    return copy_


def _edit_record(export: dict) -> None:
    record = export["records"][0]
    body = json.loads(record["body"])
    body["event"]["bizStep"] = "receiving" if body["event"].get("bizStep") != "receiving" else "shipping"
    record["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))


def _swap_claim(export: dict) -> None:
    item = export["profile"]["facts"]["packs.rescanned_after_dispensing"]["items"][0]
    item["evidence"][0]["claims"]["by"] = "0x" + "11" * 32


def _better_grade(export: dict) -> None:
    export["profile"]["grade"] = "A"


def _fewer_rescans(export: dict) -> None:
    fact = export["profile"]["facts"]["packs.rescanned_after_dispensing"]
    fact["value"] = fact["total"] = 0


def _softer_rules(export: dict) -> None:
    export["rules"]["text"] = export["rules"]["text"].replace("points_per_unit = -15", "points_per_unit = -1")


def _other_transaction_args(export: dict) -> None:
    for item in export["profile"]["facts"]["packs.status_contradictions"]["items"]:
        for ref in item["evidence"]:
            if ref["kind"] == "transaction":
                ref["args"]["status"] = "stolen"


@pytest.mark.parametrize(("change", "fragment"), [
    (_edit_record, "the record was altered"),
    (_swap_claim, "the fact relies on by '0x1111"),
    (_better_grade, "the profile says A"),
    (_fewer_rescans, "the profile lists"),
    (_softer_rules, "the rules were altered"),
    (_other_transaction_args, "status is 'dispensed', the export says 'stolen'"),
])
def test_a_tampered_export_fails_naming_what(node, exported: dict, change, fragment: str) -> None:
    with pytest.raises(ProfileExportError) as failure:
        verify_export(tampered(exported, change), node.ledger.chain)
    assert fragment in failure.value.message, failure.value.message


def test_an_operator_edit_of_the_rules_applies_to_the_next_request(node) -> None:
    from ledger.credit.rules import PACKAGED_RULES

    path = f"/v1/participants/{node.gln('carrier')}/credit"
    local = node.ledger.settings.data_dir / "credit-rules.toml"
    stricter = PACKAGED_RULES.read_text(encoding="utf-8").replace('version = "1.0.0"', 'version = "harbour-2"').replace(
        "points_per_unit = -15\nlimit = 45", "points_per_unit = -40\nlimit = 45")
    local.write_text(stricter, encoding="utf-8")
    try:
        profile = get(node, path).json()
        assert profile["rules"]["version"] == "harbour-2" and profile["rules"]["source"] == str(local)
        assert (profile["score"], profile["grade"]) == (45, "D")  # the rescan now costs 40
    finally:
        local.unlink()
    assert get(node, path).json()["rules"]["version"] == "1.0.0"
