"""``traceledger credit show|report|export`` and ``traceledger verify`` on an export, as a user runs them.

Successful runs go through typer's runner in this process (a new interpreter
costs seconds of imports); the one-line errors of ``main`` in a subprocess.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli.main import app
from ledger.credit import report
from ledger.credit.errors import CreditInputError
from ledger.credit.rules import load_rules
from ledger.credit.service import credit_profiles
from tests.credit.scenario import TRADERS
from tests.support import assert_one_line_error, run_cli

pytestmark = pytest.mark.anvil
CLEAN_ENV = {name: None for name in os.environ if name.startswith("TRACELEDGER_")}


def cli(node, *args: str):
    result = CliRunner().invoke(app, [*args, "--data-dir", str(node.ledger.settings.data_dir)], env=CLEAN_ENV)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_show_prints_the_grade_the_factors_and_the_facts(node) -> None:
    output = cli(node, "credit", "show", node.gln("carrier"))
    assert "Swift Logistics" in output and "grade B, score 70" in output
    assert "P-RESCAN" in output and "packs.rescanned_after_dispensing" in output
    assert json.loads(cli(node, "credit", "show", TRADERS["aeo"], "--json"))["grade"] == "A"
    bad = CliRunner().invoke(app, ["credit", "show", "0x12", "--data-dir", str(node.ledger.settings.data_dir)],
                             env=CLEAN_ENV)
    # main() prints a LedgerError as one `error:` line and exits 1 (the subprocess test below shows it).
    assert bad.exit_code != 0 and isinstance(bad.exception, CreditInputError)
    assert bad.exception.message == "id: '0x12' is not a participant id (0x and 64 hex digits)"


def test_report_writes_the_given_and_listed_ids_to_a_pdf(node, tmp_path: Path) -> None:
    pdf, ids = tmp_path / "report.pdf", tmp_path / "ids.txt"
    ids.write_text(f"# traders under review\n{TRADERS['troubled']}\n\n", encoding="utf-8")
    output = cli(node, "credit", "report", "--out", str(pdf), node.gln("carrier"), "--list", str(ids))
    assert "2 profiles (A 0, B 2, C 0, D 0)" in output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") >= 3  # the summary and a page per profile
    with pytest.raises(CreditInputError, match="out: report.txt must end in .html or .pdf"):
        report.output_kind(tmp_path / "report.txt")


def test_an_html_report_holds_every_participant(node, tmp_path: Path) -> None:
    ledger = node.ledger
    profiles = credit_profiles(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_ids=None,
                               rules=load_rules())
    text = report.write_report(profiles, tmp_path / "all.html", lang="zh").read_text(encoding="utf-8")
    assert text.count("<article>") == 9 and "Swift Logistics" in text and "<svg" in text and "信用档案报告" in text


def test_an_exported_profile_verifies_with_traceledger_verify_and_a_tampered_one_fails(node, tmp_path: Path) -> None:
    exported = tmp_path / "carrier.json"
    assert "grade B" in cli(node, "credit", "export", node.gln("carrier"), "--out", str(exported))
    rpc = node.ledger.settings.rpc_url
    verified = CliRunner().invoke(app, ["verify", str(exported), "--rpc-url", rpc], env=CLEAN_ENV)
    assert verified.exit_code == 0, verified.output
    assert "VERIFIED credit profile of Swift Logistics: grade B" in verified.output
    export = json.loads(exported.read_text(encoding="utf-8"))
    export["profile"]["score"] = 95
    exported.write_text(json.dumps(export), encoding="utf-8")
    assert_one_line_error(run_cli("verify", str(exported), "--rpc-url", rpc),
                          "error: the credit profile export does not verify", "the profile says B (score 95)")


def test_a_chinese_pdf_needs_a_cjk_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRACELEDGER_CJK_FONT", raising=False)
    monkeypatch.setattr(report, "CJK_FONT_CANDIDATES", (str(tmp_path / "none.ttc"),))
    with pytest.raises(CreditInputError, match="font: a Chinese report needs a font with CJK glyphs"):
        report.find_font("zh", None)
    assert report.find_font("en", None).name == "DejaVuSans.ttf"
    with pytest.raises(CreditInputError, match="font: no font file at"):
        report.find_font("zh", tmp_path / "missing.ttf")
