"""`traceledger whitelist ...` end to end on a data dir: set, check, suspend,
repair, history, a relayed change signed by an officer's key, and a bulk
import interrupted mid-way and resumed with no duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain.deploy import participant_id, role_id
from ledger.errors import ChainError
from ledger.gs1 import with_check_digit
from ledger.keystore import create_keystore
from ledger.runtime import open_ledger
from ledger.whitelist.history import read_events
from ledger.whitelist.importer import Importer, parse_csv
from ledger.whitelist.service import Whitelist
from tests.support import TEST_SCRYPT_N, assert_one_line_error, run_cli
from tests.whitelist.conftest import PASSWORD, make_data_dir, uscc
from tests.whitelist.test_mirror_and_import import customs_list


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    settings = make_data_dir(base)
    return settings, base


def cli(settings, *args: str, extra_env: dict | None = None):
    env = {"TRACELEDGER_KEY_PASSWORD": PASSWORD, **(extra_env or {})}
    return run_cli("whitelist", *args, "--data-dir", str(settings.data_dir), env=env)


def test_set_check_suspend_repair_history(node) -> None:
    settings, base = node
    dossier = base / "dossier.pdf"
    dossier.write_bytes(b"%PDF-1.7 AEO certification file")
    code = "91440101MA5CJQ4N59"
    listed = cli(settings, "set", "--uscc", code, "--level", "AEO", "--scope", "OFFSHORE_TRADE",
                 "--scope", "EXPEDITED_CLEARANCE", "--valid-from", "2026-01-01", "--valid-until", "2099-01-01",
                 "--dossier", str(dossier), "--name", "Guangzhou Example Trading Co., Ltd.")
    assert listed.returncode == 0, listed.stderr
    assert f"EntrySet {code} version 1" in listed.stdout

    allowed = cli(settings, "check", "--uscc", code, "--scope", "OFFSHORE_TRADE")
    assert allowed.returncode == 0, allowed.stderr
    assert "ALLOWED" in allowed.stdout and "read at block" in allowed.stdout
    as_json = json.loads(cli(settings, "check", "--uscc", code, "--json").stdout)
    assert as_json["status"] == "allowed" and as_json["blockHash"].startswith("0x")

    assert cli(settings, "suspend", "--uscc", code, "--reason", "documents under review").returncode == 0
    suspended = cli(settings, "check", "--uscc", code, "--scope", "OFFSHORE_TRADE")
    assert suspended.returncode == 1 and "NOT ALLOWED (suspended)" in suspended.stdout
    assert "documents under review" in suspended.stdout

    not_dishonest = cli(settings, "repair", "--uscc", code, "--dossier", str(dossier))
    assert_one_line_error(not_dishonest, "credit repair is for DISHONEST traders", "ADVANCED_CERTIFIED")

    history = cli(settings, "history", "--uscc", code)
    assert history.returncode == 0, history.stderr
    assert "listed" in history.stdout and "suspended" in history.stdout and "matches" in history.stdout
    chain_history = json.loads(cli(settings, "history", "--uscc", code, "--source", "chain", "--json").stdout)
    assert [c["change"] for c in chain_history["changes"]] == ["listed", "suspended"]
    assert chain_history["name"] == "Guangzhou Example Trading Co., Ltd." and chain_history["matchesChain"]


def test_cli_refusals_are_one_line(node) -> None:
    settings, base = node
    dossier = base / "d.txt"
    dossier.write_text("x")
    common = ["--level", "GENERAL", "--valid-from", "1", "--valid-until", "2", "--dossier", str(dossier)]
    assert_one_line_error(cli(settings, "set", "--uscc", "91350200I76049653A", *common),
                          "uscc: character 'I' at position 9 is not allowed")
    assert_one_line_error(cli(settings, "set", "--uscc", "91350200776049653B", *common),
                          "uscc: check character is 'B', expected 'A'")
    assert_one_line_error(cli(settings, "set", "--uscc", uscc(7), "--level", "DISHONEST", "--scope", "OFFSHORE_TRADE",
                              "--valid-from", "1", "--valid-until", "2", "--dossier", str(dossier)),
                          "scope: a DISHONEST trader can hold no scope")
    assert_one_line_error(cli(settings, "suspend", "--uscc", uscc(8), "--reason", "x"), "is not on the whitelist")
    assert_one_line_error(cli(settings, "set", "--uscc", uscc(9), *common[:-1], str(base / "missing.pdf")),
                          "dossier: cannot read")
    unknown = cli(settings, "check", "--uscc", uscc(10))
    assert unknown.returncode == 1 and "NOT ALLOWED (unknown)" in unknown.stdout


def test_a_change_signed_by_an_officer_and_relayed_by_the_service_key(node) -> None:
    settings, base = node
    officer_file = base / "officer.json"
    officer = create_keystore(officer_file, "officer pw", scrypt_n=TEST_SCRYPT_N)
    gln = with_check_digit("952000000888")
    with open_ledger(settings) as ledger:
        registry = ledger.contract("ParticipantRegistry")
        ledger.chain.transact(registry.functions.registerParticipant(
            participant_id(gln), int(gln), "Shenzhen Customs", [role_id("CUSTOMS")], [officer.address]),
            sender=ledger.service_account)
    dossier = base / "relayed.pdf"
    dossier.write_bytes(b"dossier signed off by the officer")
    code = uscc(20)
    relayed = cli(settings, "set", "--uscc", code, "--level", "GENERAL", "--valid-from", "2026-01-01",
                  "--valid-until", "2030-01-01", "--dossier", str(dossier), "--officer-key", str(officer_file),
                  extra_env={"TRACELEDGER_OFFICER_KEY_PASSWORD": "officer pw"})
    assert relayed.returncode == 0, relayed.stderr
    assert f"by {officer.address}, relayed by" in relayed.stdout


def test_import_interrupted_mid_way_then_resumed_by_the_cli(node, monkeypatch) -> None:
    settings, base = node
    csv_file = base / "customs-list-2026.csv"
    data = customs_list(300, offset=1000)
    csv_file.write_bytes(data)

    # First run, in process: the node "goes away" after two transactions of 50.
    with open_ledger(settings) as ledger:
        whitelist = Whitelist.from_ledger(ledger)
        real_send = Whitelist.send_entries
        calls = []

        def flaky(self, contents, **kwargs):
            if len(calls) == 2:
                raise ChainError("chain node is unreachable: ConnectionResetError (simulated)")
            calls.append(1)
            return real_send(self, contents, **kwargs)

        monkeypatch.setattr(Whitelist, "send_entries", flaky)
        with pytest.raises(ChainError, match="simulated"):
            Importer(whitelist, ledger.engine, ledger.service_account, batch_size=50).run_file(csv_file)
        monkeypatch.setattr(Whitelist, "send_entries", real_send)
        start = ledger.manifest.deployed_block

    resumed = cli(settings, "import", str(csv_file), "--batch-size", "50")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().startswith("resumed:"), resumed.stdout
    assert "200 written in 4 transactions, 100 already on chain" in resumed.stdout
    # The two transactions sent before the failure were never awaited by the failed run: the journal had
    # them, so the resumed run waited for their receipts instead of sending their entries again.
    assert "2 transaction(s) of the interrupted run settled" in resumed.stdout

    again = cli(settings, "import", str(csv_file))
    assert again.returncode == 0 and "0 written in 0 transactions, 300 already on chain" in again.stdout

    rows = parse_csv(data)
    with open_ledger(settings) as ledger:
        whitelist = Whitelist.from_ledger(ledger)
        entries = whitelist.entries([r.content.uscc for r in rows])
        assert all(e.same_content(r.content) and e.version == 1 for e, r in zip(entries, rows, strict=True))
        events = read_events(ledger.chain, whitelist.contract, from_block=start, with_times=False)
        imported = {r.content.uscc for r in rows}
        assert sorted(e.uscc for e in events if e.uscc in imported) == sorted(imported), "one event per trader"

    bad = base / "bad.csv"
    bad.write_text("uscc,name,level,scopes,valid_from,valid_until,dossier_sha256\n"
                   "91350200I76049653A,X,GENERAL,,1,2," + "ab" * 32 + "\n")
    assert_one_line_error(cli(settings, "import", str(bad)), "bad.csv: 1 invalid row(s), nothing was sent",
                          "line 2: uscc: character 'I' at position 9")
    assert Path(csv_file).exists()
