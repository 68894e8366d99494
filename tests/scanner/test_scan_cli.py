"""``traceledger scan``: verdict, output and exit codes, end to end.

Embedded chain: the scenario is recorded by a served app, its real JSON
answers for pack 1 are kept, and the app is closed (the embedded chain
file admits one process at a time). A tiny HTTP server then replays those
answers, as they were or tampered with, and the scanner reads the chain
from the data dir. Anvil: a real ``traceledger serve`` and a scanner that
is given nothing but the node URL and the contract addresses.

The end-to-end scans run ``traceledger`` in a process of its own, which
knows only the trust anchor and the API URL; verdicts and input errors
also run in this process (typer's runner), which saves the ~2 s each
process spends importing web3 and py-evm.
"""

from __future__ import annotations

import copy
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from api.app import create_app
from ledger.anchor.service import Anchorer
from ledger.chain.rpc import RpcChain
from ledger.cli.main import app
from ledger.epcis.build import gln
from ledger.participants.service import register_participant
from ledger.runtime import open_ledger
from ledger.status import service as status_service
from ledger.status.subjects import CONTRACT_NAME
from scanner.labels import write_label
from tests.reliability.server import ServerProcess
from tests.support import assert_one_line_error, fund, run_cli
from tests.trace.scenario import DRUG_LOT, PACKS, PARTIES, Node, key_of, record_scenario
from tests.whitelist.conftest import PASSWORD, make_data_dir

PACK = key_of(PACKS[0])
PACK_ELEMENTS = "(01)09521000000346(21)PK0001"
NOTICE = "Sterility failure in lot LOT-A"
JSON = {"Accept": "application/json"}
WIDE = {"COLUMNS": "200"}  # rich wraps to 80 columns without a terminal


def _anchored_and_recalled(http: httpx.Client) -> dict:
    """The pack's trace once every event is anchored and the status mirror shows the recall."""
    deadline = time.monotonic() + 30
    while True:
        trace = http.get(PACK, headers=JSON).json()
        if all(e["anchored"] for e in trace["events"]) and trace["status"]["recalls"]:
            return trace
        assert time.monotonic() < deadline, "the server did not anchor and mirror the recall within 30 s"
        time.sleep(0.1)


def _register(ledger) -> dict[str, Account]:
    keys = {party: Account.create() for party in PARTIES}
    for party, (gln_body, name, roles) in PARTIES.items():
        register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
    return keys


@dataclass
class Recorded:
    data_dir: Path
    answers: dict[str, dict]
    """Path (without query) -> the server's real JSON answer."""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    settings = make_data_dir(tmp_path_factory.mktemp("scan-cli"))
    with TestClient(create_app(settings)) as http:
        ledger = http.app.state.ledger
        node = Node(http, ledger, _register(ledger))
        record_scenario(node)
        status_service.recall(chain=ledger.chain, contract=ledger.contract(CONTRACT_NAME),
                              sender=node.keys["regulator"], key=key_of(DRUG_LOT), notice=NOTICE)
        Anchorer(engine=ledger.engine, chain=ledger.chain, anchor=ledger.contract("CheckpointAnchor"),
                 sender=ledger.service_account).anchor_once(force=True)
        trace = _anchored_and_recalled(http)
        answers = {PACK: trace}
        for capture in {json.loads(e["record"]["body"])["captureRecord"] for e in trace["events"]}:
            answers[f"/v1/records/{capture}/evidence"] = http.get(f"/v1/records/{capture}/evidence").json()
    return Recorded(settings.data_dir, answers)


@contextmanager
def replay(answers: dict[str, dict]) -> Iterator[str]:
    """An HTTP server answering each known path with its JSON, anything else 404; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = answers.get(self.path.split("?", 1)[0])
            payload = json.dumps(body if body is not None else {"detail": "not found"}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def scan_here(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``traceledger scan`` run in this process, as a CompletedProcess (for tests.support's assertions)."""
    unset = {"TRACELEDGER_API_URL": None, "TRACELEDGER_RPC_URL": None}
    result = CliRunner().invoke(app, ["scan", *arguments], env=unset)
    return subprocess.CompletedProcess(["scan", *arguments], result.exit_code, result.stdout, result.stderr)


def _label(tmp_path: Path) -> Path:
    return write_label(f"https://id.gs1.org{PACK}", tmp_path / "pack.png")


def test_a_scanned_label_is_verified_against_the_chain_of_the_data_dir(recorded: Recorded, tmp_path: Path) -> None:
    with replay(recorded.answers) as api:
        result = run_cli("scan", str(_label(tmp_path)), "--api", api, "--data-dir", str(recorded.data_dir), env=WIDE)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "VERIFIED — RECALLED"
    assert f"RECALLED: lot {key_of(DRUG_LOT)} by Food and Drug Authority" in result.stdout and NOTICE in result.stdout
    assert all(shown in result.stdout for shown in ("commissioning", "Lab Pharma", "City Hospital Pharmacy"))


def test_a_tampered_answer_is_not_verified_with_the_reason_and_exit_1(recorded: Recorded) -> None:
    answers = copy.deepcopy(recorded.answers)
    proof = answers[PACK]["events"][2]["inclusionProof"]
    proof[-1] = "0x" + "00" * 32
    with replay(answers) as api:
        result = scan_here("--link", PACK_ELEMENTS, "--api", api, "--data-dir", str(recorded.data_dir), "--json")
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "NOT VERIFIED" and verdict["reason"].startswith("inclusion: event at log index")
    assert verdict["headline"] == "NOT VERIFIED: " + verdict["reason"]
    assert [w["key"] for w in verdict["warnings"]] == [key_of(DRUG_LOT)]  # the chain's recall, shown regardless


def test_events_served_as_not_anchored_give_partly_verified_and_exit_3(recorded: Recorded) -> None:
    answers = copy.deepcopy(recorded.answers)
    last = answers[PACK]["events"][-1]
    last["anchored"], last["inclusionProof"] = False, None
    with replay(answers) as api:
        result = scan_here("--link", f"https://id.gs1.org{PACK}", "--api", api, "--data-dir", str(recorded.data_dir),
                           "--json")
    assert result.returncode == 3, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["headline"] == "PARTLY VERIFIED — RECALLED" and verdict["unanchored"] == [last["logIndex"]]
    [anchoring] = [check for check in verdict["checks"] if check["name"] == "anchoring"]
    assert anchoring["outcome"] == "partial" and f"log indices {last['logIndex']}" in anchoring["detail"]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["missing.png"], "no such file"),
        (["blank.png"], "no QR code or DataMatrix found"),
        ([], "give an IMAGE or --link"),
        (["--link", "(01)09521000000345(21)PK0001"], "check digit"),
        (["--link", f"https://id.gs1.org{PACK}"], "pass --api"),
        (["--link", PACK_ELEMENTS, "--api", "http://127.0.0.1:9", "--data-dir", "empty"], "no trusted contracts"),
        (["--link", PACK_ELEMENTS, "--api", "http://127.0.0.1:9", "--status", "0x1"], "--status needs --anchor"),
    ],
    ids=["no file", "no code", "nothing to scan", "bad check digit", "GS1 host without --api", "no trust",
         "status without anchor"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, arguments: list[str], fragment: str) -> None:
    Image.new("L", (200, 200), 255).save(tmp_path / "blank.png")
    (tmp_path / "empty").mkdir()
    resolved = [str(tmp_path / a) if a in ("missing.png", "blank.png", "empty") else a for a in arguments]
    result = scan_here(*resolved)
    assert_one_line_error(result, fragment)
    assert result.returncode == 2


def test_an_unreachable_api_is_one_line_and_exit_1(recorded: Recorded) -> None:
    result = run_cli("scan", "--link", PACK_ELEMENTS, "--api", "http://127.0.0.1:9", "--data-dir",
                     str(recorded.data_dir))
    assert_one_line_error(result, "the API at http://127.0.0.1:9 is unreachable")
    assert result.returncode == 1


@pytest.mark.anvil
def test_a_live_server_on_anvil_is_verified_with_only_the_node_url_and_addresses(anvil, tmp_path: Path) -> None:
    settings = make_data_dir(tmp_path, rpc_url=anvil.url)
    with open_ledger(settings) as ledger:
        keys = _register(ledger)
        contracts = ledger.manifest.contracts
    env = {"TRACELEDGER_KEY_PASSWORD": PASSWORD, "TRACELEDGER_ANCHOR_MAX_DELAY": "0.2"}
    server = ServerProcess(settings.data_dir, env, tmp_path / "serve.log")
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            record_scenario(Node(http, None, keys))  # type: ignore[arg-type]  (captures go through HTTP only)
            with RpcChain(anvil.url) as chain:
                fund(chain, keys["regulator"].address)
                status_service.recall(chain=chain, contract=chain.contract(CONTRACT_NAME, contracts[CONTRACT_NAME]),
                                      sender=keys["regulator"], key=key_of(DRUG_LOT), notice=NOTICE)
            _anchored_and_recalled(http)
        result = run_cli("scan", str(_label(tmp_path)), "--api", server.url, "--rpc-url", anvil.url,
                         "--anchor", contracts["CheckpointAnchor"], "--status", contracts[CONTRACT_NAME],
                         "--chain-id", "31337", "--data-dir", str(tmp_path / "nothing-here"), env=WIDE)
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr + server.log_tail()
    assert result.stdout.splitlines()[0] == "VERIFIED — RECALLED"
    assert "City Hospital Pharmacy" in result.stdout and NOTICE in result.stdout
