"""`traceledger init`: creates a working data dir, is idempotent, and refuses
bad input with one line and a non-zero exit, leaving nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.bootstrap import init_data_dir
from ledger.config import Settings
from ledger.datadir import MANIFEST_NAME
from ledger.runtime import open_ledger
from tests.support import assert_one_line_error, run_cli

PASSWORD = "correct horse battery staple"


def test_init_creates_a_data_dir_that_opens(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    settings = Settings(data_dir=data_dir, key_password=PASSWORD)
    report = init_data_dir(settings)
    assert report.created
    manifest = json.loads((data_dir / MANIFEST_NAME).read_text())
    assert set(manifest["contracts"]) == {"ParticipantRegistry", "CheckpointAnchor", "TraderWhitelist", "ProductStatus"}
    assert (data_dir / "keystore" / "admin.json").stat().st_mode & 0o077 == 0
    with open_ledger(settings) as ledger:
        assert ledger.service_account.address == manifest["service_address"]
        registry = ledger.contract("ParticipantRegistry")
        anchor_role = ledger.chain.call(registry.functions.ANCHOR_ROLE())
        assert ledger.chain.call(registry.functions.hasActiveRole(manifest["service_address"], anchor_role))
    assert not list(tmp_path.glob(".node.init-*")), "staging folder left behind"


def test_init_is_idempotent(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "node", key_password=PASSWORD)
    first = init_data_dir(settings)
    keystore_before = (tmp_path / "node" / "keystore" / "admin.json").read_bytes()
    second = init_data_dir(settings)
    assert not second.created
    assert second.manifest.contracts == first.manifest.contracts
    assert (tmp_path / "node" / "keystore" / "admin.json").read_bytes() == keystore_before


def test_cli_init_then_status(tmp_path: Path) -> None:
    env = {"TRACELEDGER_KEY_PASSWORD": PASSWORD}
    result = run_cli("init", "--data-dir", str(tmp_path / "d"), env=env)
    assert result.returncode == 0, result.stderr
    assert "initialised" in result.stdout
    status = run_cli("status", "--data-dir", str(tmp_path / "d"), env=env)
    assert status.returncode == 0, status.stderr
    assert "CheckpointAnchor" in status.stdout


def test_missing_password_is_refused_and_nothing_written(tmp_path: Path) -> None:
    result = run_cli("init", "--data-dir", str(tmp_path / "d"))
    assert_one_line_error(result, "no keystore password", "TRACELEDGER_KEY_PASSWORD")
    assert not (tmp_path / "d").exists()
    assert list(tmp_path.iterdir()) == []


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    init_data_dir(Settings(data_dir=tmp_path / "d", key_password=PASSWORD))
    with open_ledger(Settings(data_dir=tmp_path / "d", key_password="not it")) as ledger:
        from ledger.errors import KeystoreError

        with pytest.raises(KeystoreError, match="wrong password"):
            ledger.service_account  # noqa: B018 (decrypting is the point)


def test_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    result = run_cli("init", "--data-dir", str(tmp_path / "photos"), env={"TRACELEDGER_KEY_PASSWORD": PASSWORD})
    assert_one_line_error(result, "not a traceledger data dir")
    assert [p.name for p in (tmp_path / "photos").iterdir()] == ["cat.jpg"]


def test_unreachable_rpc_url_is_refused_and_nothing_written(tmp_path: Path) -> None:
    result = run_cli("init", "--data-dir", str(tmp_path / "d"), "--rpc-url", "http://127.0.0.1:9",
                     env={"TRACELEDGER_KEY_PASSWORD": PASSWORD})
    assert_one_line_error(result, "unreachable", "127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def test_unopenable_database_url_is_refused_and_nothing_written(tmp_path: Path) -> None:
    result = run_cli("init", "--data-dir", str(tmp_path / "d"), env={
        "TRACELEDGER_KEY_PASSWORD": PASSWORD,
        "TRACELEDGER_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    })
    assert_one_line_error(result, "cannot open the index database", "127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def test_commands_on_an_uninitialised_dir_say_so(tmp_path: Path) -> None:
    result = run_cli("status", "--data-dir", str(tmp_path / "nothing"))
    assert_one_line_error(result, "does not exist", "traceledger init")


def test_embedded_chain_survives_a_restart_in_another_process(tmp_path: Path) -> None:
    """Contracts deployed and transactions sent by one process are there for the next."""
    env = {"TRACELEDGER_KEY_PASSWORD": PASSWORD}
    assert run_cli("init", "--data-dir", str(tmp_path / "d"), env=env).returncode == 0
    script = tmp_path / "step.py"
    script.write_text(
        "import sys\n"
        "from ledger.config import Settings\n"
        "from ledger.runtime import open_ledger\n"
        f"settings = Settings(data_dir={str(tmp_path / 'd')!r}, key_password={PASSWORD!r})\n"
        "with open_ledger(settings) as ledger:\n"
        "    registry = ledger.contract('ParticipantRegistry')\n"
        "    role = ledger.chain.call(registry.functions.AUDITOR_ROLE())\n"
        "    if sys.argv[1] == 'write':\n"
        "        ledger.chain.transact(registry.functions.grantParticipantRole(\n"
        "            ledger.chain.call(registry.functions.participantOf(ledger.service_account.address)), role),\n"
        "            sender=ledger.service_account)\n"
        "    print(ledger.chain.w3.eth.block_number,\n"
        "          ledger.chain.call(registry.functions.hasActiveRole(ledger.manifest.service_address, role)))\n"
    )
    full_env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    before = subprocess.run([sys.executable, str(script), "read"], capture_output=True, text=True, env=full_env)
    assert before.stdout.split()[1] == "False", before.stderr
    written = subprocess.run([sys.executable, str(script), "write"], capture_output=True, text=True, env=full_env)
    assert written.returncode == 0, written.stderr
    after = subprocess.run([sys.executable, str(script), "read"], capture_output=True, text=True, env=full_env)
    assert after.returncode == 0, after.stderr
    assert after.stdout.split() == [str(int(before.stdout.split()[0]) + 1), "True"]


def test_a_setting_that_does_not_parse_is_a_one_line_error_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("status", "--data-dir", str(tmp_path), env={"TRACELEDGER_RECEIPT_TIMEOUT": "soon"})
    assert_one_line_error(result, "TRACELEDGER_RECEIPT_TIMEOUT", "'soon'")
