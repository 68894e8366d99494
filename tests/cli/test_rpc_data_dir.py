"""A data dir on a real JSON-RPC node (anvil): init, anchor, and a bundle
verified by a process that has nothing but the bundle and the node's URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from ledger.anchor.service import Anchorer
from ledger.bootstrap import init_data_dir
from ledger.config import Settings
from ledger.keystore import create_keystore
from ledger.records.append import NewRecord, append_records
from ledger.runtime import open_ledger
from tests.support import TEST_SCRYPT_N, assert_one_line_error, run_cli

pytestmark = pytest.mark.anvil


def test_bundle_verifies_with_only_the_rpc_url(anvil, tmp_path: Path) -> None:
    key_file = tmp_path / "operator.json"
    operator = create_keystore(key_file, "pw", scrypt_n=TEST_SCRYPT_N)
    anvil_rich = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")  # anvil's dev account 0
    from ledger.chain.rpc import RpcChain

    with RpcChain(anvil.url) as chain:
        chain.send_value(operator.address, 10**20, sender=anvil_rich)

    settings = Settings(data_dir=tmp_path / "node", rpc_url=anvil.url, key_file=key_file, key_password="pw")
    report = init_data_dir(settings)
    assert report.manifest.chain_kind == "rpc" and report.manifest.chain_id == 31337
    with open_ledger(settings) as ledger:
        append_records(ledger.engine, [NewRecord("test.note", {"n": i}) for i in range(7)])
        Anchorer(engine=ledger.engine, chain=ledger.chain, anchor=ledger.contract("CheckpointAnchor"),
                 sender=ledger.service_account).anchor_once(force=True)

    env = {"TRACELEDGER_KEY_PASSWORD": "pw", "TRACELEDGER_KEY_FILE": str(key_file)}
    bundle = tmp_path / "e.json"
    assert run_cli("proof", "export", "6", "--data-dir", str(tmp_path / "node"), "--out", str(bundle), env=env).returncode == 0
    verified = run_cli("verify", str(bundle), "--rpc-url", anvil.url, "--data-dir", str(tmp_path / "elsewhere"))
    assert verified.returncode == 0, verified.stderr
    assert "VERIFIED" in verified.stdout and "chain 31337" in verified.stdout

    assert_one_line_error(run_cli("verify", str(bundle), "--rpc-url", "http://127.0.0.1:9"), "unreachable")
    assert_one_line_error(run_cli("verify", str(tmp_path / "missing.json"), "--rpc-url", anvil.url), "does not exist")
