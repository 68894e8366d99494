"""`traceledger participant ...` against a real data dir (embedded chain, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from ledger.bootstrap import init_data_dir
from ledger.chain.deploy import OPERATOR_GLN
from ledger.config import Settings
from ledger.gs1 import with_check_digit
from ledger.keystore import keystore_address, load_keystore
from tests.support import assert_one_line_error, run_cli

ENV = {"TRACELEDGER_KEY_PASSWORD": "pw", "COLUMNS": "250"}
PARTICIPANT_PASSWORD = "participant pw"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "node"
    init_data_dir(Settings(data_dir=path, key_password="pw"))
    return path


def cli(data_dir: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_cli("participant", *args, "--data-dir", str(data_dir), env=ENV | (env or {}))


def test_add_list_suspend_reactivate(data_dir: Path) -> None:
    gln = with_check_digit("500000000001")
    key = Account.create().address
    added = cli(data_dir, "add", "--gln", gln, "--name", "Green Farm", "--role", "producer", "--role", "Distributor", "--key", key.lower())
    assert added.returncode == 0, added.stderr
    assert gln in added.stdout and "PRODUCER, DISTRIBUTOR" in added.stdout and key in added.stdout

    listed = cli(data_dir, "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if gln in line)
    assert "Green Farm" in row and "active" in row and "PRODUCER, DISTRIBUTOR" in row and key in row
    assert OPERATOR_GLN in listed.stdout

    suspended = cli(data_dir, "suspend", "--gln", gln)
    assert suspended.returncode == 0, suspended.stderr
    assert "suspended" in suspended.stdout
    row = next(line for line in cli(data_dir, "list").stdout.splitlines() if gln in line)
    assert "suspended" in row

    again = cli(data_dir, "suspend", "--gln", gln)
    assert again.returncode == 1
    assert_one_line_error(again, "gln:", "already suspended")

    reactivated = cli(data_dir, "reactivate", "--gln", gln)
    assert reactivated.returncode == 0, reactivated.stderr
    row = next(line for line in cli(data_dir, "list", "--role", "distributor").stdout.splitlines() if gln in line)
    assert "active" in row

    history = cli(data_dir, "history", "--gln", gln)
    assert history.returncode == 0, history.stderr
    for kind in ("ParticipantRegistered", "ParticipantSuspended", "ParticipantReactivated", "KeyAdded"):
        assert kind in history.stdout


def test_add_with_a_new_key_writes_a_keystore(data_dir: Path) -> None:
    gln = with_check_digit("500000000002")
    added = cli(data_dir, "add", "--gln", gln, "--name", "Pharma Co", "--role", "MANUFACTURER", "--new-key",
                env={"TRACELEDGER_PARTICIPANT_KEY_PASSWORD": PARTICIPANT_PASSWORD})
    assert added.returncode == 0, added.stderr
    path = data_dir / "keystore" / f"{gln}.json"
    assert path.stat().st_mode & 0o077 == 0
    address = keystore_address(path)
    assert address.lower() in added.stdout.lower() and str(path) in added.stdout
    assert load_keystore(path, PARTICIPANT_PASSWORD).address.lower() == address.lower()
    assert json.loads(path.read_text())["crypto"]["kdf"] == "scrypt"
    row = next(line for line in cli(data_dir, "list").stdout.splitlines() if gln in line)
    assert "MANUFACTURER" in row and load_keystore(path, PARTICIPANT_PASSWORD).address in row


def test_new_key_without_a_password_writes_nothing(data_dir: Path) -> None:
    gln = with_check_digit("500000000003")
    result = cli(data_dir, "add", "--gln", gln, "--name", "No Password", "--role", "RETAILER", "--new-key")
    assert result.returncode == 1
    assert_one_line_error(result, "TRACELEDGER_PARTICIPANT_KEY_PASSWORD")
    assert not (data_dir / "keystore" / f"{gln}.json").exists()
    assert gln not in cli(data_dir, "list").stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--gln", "5000000000045", "--name", "X", "--role", "RETAILER", "--key", Account.create().address], ["gln:", "check digit"]),
        (["--gln", with_check_digit("500000000004"), "--name", "X", "--role", "farmer", "--key", Account.create().address],
         ["role:", "unknown role 'farmer'"]),
        (["--gln", OPERATOR_GLN, "--name", "X", "--role", "RETAILER", "--key", Account.create().address], ["gln:", "already registered"]),
        (["--gln", OPERATOR_GLN, "--name", "X", "--role", "RETAILER", "--new-key"], ["gln:", "already registered"]),
        (["--gln", with_check_digit("500000000004"), "--name", "X", "--key", Account.create().address], ["role:", "at least one"]),
        (["--gln", with_check_digit("500000000004"), "--name", "X", "--role", "RETAILER"], ["key:", "--new-key"]),
        (["--gln", with_check_digit("500000000004"), "--name", "X", "--role", "RETAILER", "--key", "0xabc"], ["key:", "not an address"]),
    ],
    ids=["check-digit", "unknown-role", "duplicate-gln", "duplicate-gln-new-key", "no-role", "no-key", "bad-address"],
)
def test_bad_input_is_one_line_naming_the_field(data_dir: Path, args: list[str], fragments: list[str]) -> None:
    keystores = set((data_dir / "keystore").iterdir())
    result = cli(data_dir, "add", *args, env={"TRACELEDGER_PARTICIPANT_KEY_PASSWORD": PARTICIPANT_PASSWORD})
    assert result.returncode == 1
    assert_one_line_error(result, *fragments)
    assert set((data_dir / "keystore").iterdir()) == keystores


def test_unknown_gln_is_not_found(data_dir: Path) -> None:
    result = cli(data_dir, "suspend", "--gln", with_check_digit("500000000009"))
    assert result.returncode == 1
    assert_one_line_error(result, "gln:", "no participant is registered")


def test_key_and_role_commands(data_dir: Path) -> None:
    gln = with_check_digit("500000000005")
    first, second = Account.create().address, Account.create().address
    assert cli(data_dir, "add", "--gln", gln, "--name", "Depot", "--role", "DISTRIBUTOR", "--key", first).returncode == 0
    steps = [
        ("add-key", "--gln", gln, "--key", second),
        ("revoke-key", "--key", first),
        ("grant-role", "--gln", gln, "--role", "auditor"),
        ("revoke-role", "--gln", gln, "--role", "distributor"),
    ]
    for step in steps:
        result = cli(data_dir, *step)
        assert result.returncode == 0, (step, result.stderr)
    row = next(line for line in cli(data_dir, "list").stdout.splitlines() if gln in line)
    assert "AUDITOR" in row and "DISTRIBUTOR" not in row and second in row
    reused = cli(data_dir, "add-key", "--gln", gln, "--key", first)
    assert_one_line_error(reused, "key:", "never registered twice")
