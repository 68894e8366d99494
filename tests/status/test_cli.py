"""``traceledger product ...`` as a regulator uses it: recall, show, withdraw; mistakes are one-line errors."""

from __future__ import annotations

from pathlib import Path

from ledger.bootstrap import init_data_dir
from ledger.chain.deploy import OPERATOR_GLN
from ledger.config import Settings
from tests.support import assert_one_line_error, run_cli

PASSWORD = "product status cli"
LOT = "/01/09521000000346/10/LOT-A"


def test_a_regulator_recalls_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    init_data_dir(Settings(data_dir=data_dir, key_password=PASSWORD, anchor_enabled=False))
    env = {"TRACELEDGER_KEY_PASSWORD": PASSWORD}

    def cli(*args: str):
        return run_cli("product", *args, "--data-dir", str(data_dir), env=env)

    assert_one_line_error(cli("recall", LOT, "--notice", "Listeria"), "only a regulator or the producer")
    granted = run_cli("participant", "grant-role", "--gln", OPERATOR_GLN, "--role", "regulator",
                      "--data-dir", str(data_dir), env=env)
    assert granted.returncode == 0, granted.stderr
    recalled = cli("recall", f"https://id.gs1.org{LOT}", "--notice", "Listeria")
    assert recalled.returncode == 0, recalled.stderr
    assert f"Recalled {LOT} by participant 0x" in recalled.stdout
    shown = cli("show", LOT)
    assert shown.returncode == 0 and "RECALLED" in shown.stdout

    assert_one_line_error(cli("recall", LOT, "--notice", "again"), "already recalled")
    assert_one_line_error(cli("recall", "/01/09521000000341/10/X", "--notice", "x"), "key:", "check digit")
    assert_one_line_error(cli("decommission", "/01/09521000000346/21/S1", "--as", "lost"), "status:", "dispensed, stolen or destroyed")
    assert_one_line_error(cli("recall", LOT, "--notice", "x", "--dossier", str(tmp_path / "missing.pdf")), "dossier:")
