"""The demo as a user runs it, then the data it leaves inspected with the
other commands: audit, proof export, verify — and a tamper caught."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.support import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("demo") / "node"
    result = run_cli("demo", "--data-dir", str(data_dir), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step verified" in result.stdout
    password_file = data_dir.parent / "node-demo-password"
    assert password_file.exists() and password_file.stat().st_mode & 0o077 == 0
    return data_dir, {"TRACELEDGER_KEY_PASSWORD_FILE": str(password_file)}


def test_demo_writes_labels_pages_and_a_verified_scan(demo_dir) -> None:
    from scanner.decode import read_identifier

    data_dir, _ = demo_dir
    out = data_dir / "out"
    label = out / "labels" / "sauce-lot.png"
    assert read_identifier(label).canonical == "/01/09521000000278/10/RS-4471"
    assert "<svg" in (out / "labels" / "sauce-lot.svg").read_text()
    assert (out / "labels" / "drug-packs.pdf").read_bytes().startswith(b"%PDF")
    english, chinese = (out / "sauce-lot.en.html").read_text(), (out / "sauce-lot.zh.html").read_text()
    assert "Salmonella found in field 7" in english and "Salmonella found in field 7" in chinese
    assert 'lang="zh' in chinese and 'lang="en' in english
    verdict = json.loads((out / "scan-verdict.json").read_text())
    assert verdict["verdict"] == "VERIFIED" and verdict["headline"] == "VERIFIED — RECALLED"
    assert all(check["outcome"] == "pass" for check in verdict["checks"])


def test_demo_leaves_a_data_dir_that_audits_clean(demo_dir) -> None:
    data_dir, env = demo_dir
    assert (data_dir / "traceledger.json").exists() and (data_dir / "index.sqlite").exists()
    result = run_cli("audit", "--data-dir", str(data_dir), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all holds" in result.stdout


def test_exported_evidence_verifies_and_an_altered_one_does_not(demo_dir, tmp_path: Path) -> None:
    data_dir, env = demo_dir
    bundle = tmp_path / "evidence.json"
    exported = run_cli("proof", "export", "2", "--data-dir", str(data_dir), "--out", str(bundle), env=env)
    assert exported.returncode == 0, exported.stderr
    verified = run_cli("verify", str(bundle), "--data-dir", str(data_dir), env=env)
    assert verified.returncode == 0, verified.stderr
    assert "VERIFIED" in verified.stdout

    evidence = json.loads(bundle.read_text())
    evidence["record"]["body"] = evidence["record"]["body"].replace("0", "1", 1)
    bundle.write_text(json.dumps(evidence))
    assert_one_line_error(run_cli("verify", str(bundle), "--data-dir", str(data_dir), env=env), "record was altered")


def copied(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo's data dir, to tamper with while the other tests read the original."""
    copy = tmp_path / "node"
    shutil.copytree(data_dir, copy)
    return copy


def test_audit_catches_an_edit_of_a_derived_table_unless_told_log_only(demo_dir, tmp_path: Path) -> None:
    data_dir, env = demo_dir
    copy = copied(data_dir, tmp_path)
    with sqlite3.connect(copy / "index.sqlite") as conn:
        epc, location = conn.execute("SELECT epc, location FROM trace_state WHERE location IS NOT NULL ORDER BY epc").fetchone()
        conn.execute("UPDATE trace_state SET location = 'https://id.gs1.org/414/9521000000999' WHERE epc = ?", (epc,))
    wide = {**env, "COLUMNS": "400"}  # rich folds long lines at the terminal width
    result = run_cli("audit", "--data-dir", str(copy), env=wide)
    assert result.returncode == 1
    assert f"trace_state {epc}: location is 'https://id.gs1.org/414/9521000000999', the log gives '{location}'" in result.stdout

    log_only = run_cli("audit", "--log-only", "--data-dir", str(copy), env=env)
    assert log_only.returncode == 0, log_only.stdout
    assert "not checked (--log-only)" in log_only.stdout and "trace_state" not in log_only.stdout


def test_audit_rebuilds_the_contract_mirrors_from_the_chain_and_names_each_edit(demo_dir, tmp_path: Path) -> None:
    """Edits that would let capture accept a revoked key or a dishonest trader's claim, or hide a recall."""
    data_dir, env = demo_dir
    copy = copied(data_dir, tmp_path)
    with sqlite3.connect(copy / "index.sqlite") as conn:
        participant, roles = conn.execute("SELECT id, roles FROM participant ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE participant SET roles = ? WHERE id = ?", (roles | 0x3FF, participant))
        recalled = conn.execute("SELECT key FROM product_status WHERE recalled ORDER BY key LIMIT 1").fetchone()[0]
        conn.execute("UPDATE product_status SET recalled = 0 WHERE key = ?", (recalled,))
        block, log_index, level = conn.execute(
            "SELECT block_number, log_index, level FROM whitelist_event WHERE level IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
        conn.execute("UPDATE whitelist_event SET level = ? WHERE block_number = ? AND log_index = ?", (3 - level, block, log_index))
        registry_block, registry_log = conn.execute("SELECT block_number, log_index FROM registry_event ORDER BY id DESC LIMIT 1").fetchone()
        conn.execute("DELETE FROM registry_event WHERE block_number = ? AND log_index = ?", (registry_block, registry_log))
    result = run_cli("audit", "--data-dir", str(copy), env={**env, "COLUMNS": "400"})
    assert result.returncode == 1
    named = {line.removeprefix("✗ ").split(": ", 1)[0]: line for line in result.stdout.splitlines() if line.startswith("✗ ")}
    assert f"roles is {roles | 0x3FF}, the chain gives {roles}" in named[f"participant {participant}"]
    assert "recalled is False, the chain gives True" in named[f"product_status {recalled}"]
    [whitelist] = [line for subject, line in named.items() if subject.startswith("whitelist_event (")]
    assert f"block_number={block}, log_index={log_index}" in whitelist and f"level is {3 - level}, the chain gives {level}" in whitelist
    assert "missing: the chain gives this row" in named[f"registry_event (block_number={registry_block}, log_index={registry_log})"]
    assert len(named) == 4, named


def test_audit_catches_an_edit_of_the_live_index(demo_dir) -> None:
    data_dir, env = demo_dir
    with sqlite3.connect(data_dir / "index.sqlite") as conn:
        conn.execute("""UPDATE record SET body = body || ' ' WHERE "index" = 5""")
    result = run_cli("audit", "--data-dir", str(data_dir), env=env)
    assert result.returncode == 1
    assert "record 5" in result.stdout


def test_a_hostile_bundle_file_is_a_one_line_error(demo_dir, tmp_path: Path) -> None:
    data_dir, env = demo_dir
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    assert_one_line_error(run_cli("verify", str(deep), "--data-dir", str(data_dir), env=env), "is not JSON")
