"""Chain faults (issue 8, item 2), on a real anvil node.

- A node that answers garbage (an HTML page, JSON that is no JSON-RPC
  response, a result of the wrong type) or nothing at all gives a ChainError
  naming the node, within the request timeout: from `RpcChain`, as a one-line
  CLI error, and as a 503 from `serve`, which meanwhile keeps serving every
  read from the index and keeps capturing.
- A node that swallows transactions: the CLI fails at the receipt timeout.
- The node stopped during continuous capture and started again: capture goes
  on, anchoring resumes, no checkpoint skipped or doubled.
- A reorganisation (anvil's evm_snapshot / evm_revert) drops a mined
  checkpoint and a participant registration: the anchorer re-anchors, the
  registry indexer forgets the key.

The node sits behind a :class:`FaultyNode` proxy (the data dir's RPC URL);
the stop/start and reorg tests talk to anvil directly (TRACELEDGER_RPC_URL).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from eth_account import Account
from sqlmodel import Session
from web3.exceptions import TransactionNotFound

from ledger.audit import audit_index
from ledger.chain.deploy import participant_id, role_id
from ledger.client import ClientError, LedgerClient, epcis_document
from ledger.crossborder.sync import sync_whitelist_mirror
from ledger.epcis.build import gln, item, object_event
from ledger.errors import ChainError
from ledger.index.db import create_index_engine
from ledger.participants.indexer import key_status
from ledger.participants.service import sync_registry
from ledger.runtime import Ledger, open_ledger
from ledger.status.mirror import status_mirror
from tests.reliability.evidence import checkpoint_trail, record_figures, stored_event_counts
from tests.reliability.faulty_node import GARBAGE_MODES, FaultyNode
from tests.reliability.server import anchored_to, latest_checkpoint, wait_for
from tests.reliability.site_setup import FARM_GLN, PRODUCT, Site, make_site
from tests.reliability.traffic import CaptureLoad
from tests.support import AnvilProcess, anvil_binary, assert_one_line_error, run_cli, unavailable
from tests.whitelist.conftest import PASSWORD, uscc

pytestmark = [pytest.mark.reliability, pytest.mark.anvil]

REQUEST_TIMEOUT = 1.0  # TRACELEDGER_REQUEST_TIMEOUT wherever the chain misbehaves
# "Within the timeout": the timeout plus room for process and interpreter
# overheads on a loaded CI machine; what this catches is a hang.
FAIL_FAST_BOUND = REQUEST_TIMEOUT + 4.0
RESUME_BOUND = 45.0  # anchoring resumes after an outage: the anchorer's backoff is at most 10 s


@dataclass
class Node:
    anvil: AnvilProcess
    faulty: FaultyNode
    site: Site

    def direct(self) -> Site:
        """Settings that reach anvil directly, bypassing the proxy."""
        settings = self.site.settings.model_copy(update={"rpc_url": self.anvil.url})
        return Site(settings=settings, producer=self.site.producer, database_url=None)

    def open_direct(self) -> Ledger:
        return open_ledger(self.direct().settings)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    binary = anvil_binary()
    if binary is None:
        unavailable("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    tmp = tmp_path_factory.mktemp("chain-faults")
    anvil = AnvilProcess(binary, "--state", str(tmp / "anvil-state.json"))  # restartable with its chain
    anvil.start()
    faulty = FaultyNode(anvil.url)
    try:
        yield Node(anvil, faulty, make_site(tmp, rpc_url=faulty.url))
    finally:
        faulty.close()
        anvil.stop()


@pytest.fixture(autouse=True)
def healthy_proxy(node: Node) -> Iterator[None]:
    node.faulty.set_mode("forward")
    yield
    node.faulty.set_mode("forward")


def document(tag: str, count: int = 5) -> dict:
    return epcis_document([
        object_event(epcs=[item(PRODUCT, f"{tag}.{i}")], action="ADD", biz_step="commissioning",
                     disposition="active", location=FARM_GLN)
        for i in range(count)
    ])


def log_size(site: Site) -> int:
    engine = create_index_engine(site.settings.index_url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM record").scalar_one()
    finally:
        engine.dispose()


def assert_log_intact(node: Node) -> tuple[list[int], int]:
    """Every checkpoint row matches the chain and the log audits clean; (checkpoint sizes, records)."""
    with node.open_direct() as ledger:
        anchor = ledger.contract("CheckpointAnchor")
        sizes = checkpoint_trail(ledger.engine, ledger.chain, anchor)
        report = audit_index(ledger)
    assert report.ok, [str(d) for d in report.discrepancies]
    return sizes, report.records


# -- garbage and silence ---------------------------------------------------------------------


def test_rpc_chain_fails_fast_and_clearly_on_garbage_and_silence(node: Node) -> None:
    settings = node.site.settings.model_copy(update={"request_timeout": REQUEST_TIMEOUT})
    seconds = {}
    with open_ledger(settings) as ledger:
        anchor = ledger.contract("CheckpointAnchor")
        for mode in GARBAGE_MODES:
            node.faulty.set_mode(mode)
            started = time.monotonic()
            with pytest.raises(ChainError) as failure:
                ledger.chain.call(anchor.functions.checkpointCount())
            seconds[mode] = round(time.monotonic() - started, 2)
            assert node.faulty.url in str(failure.value)
            assert seconds[mode] < FAIL_FAST_BOUND, f"{mode}: {seconds[mode]}s"
            with pytest.raises(ChainError):  # a transaction fails the same way, before anything is sent
                ledger.chain.transact(anchor.functions.anchor(1, b"\1" * 32, []), sender=ledger.service_account)
        node.faulty.set_mode("forward")
        assert ledger.chain.call(anchor.functions.checkpointCount()) >= 0, "the same connection works again"
    record_figures("chain_garbage_rpc", {f"{mode}_seconds": value for mode, value in seconds.items()}
                   | {"request_timeout_seconds": REQUEST_TIMEOUT})


def test_cli_fails_with_one_line_within_the_request_timeout(node: Node) -> None:
    """One CLI process per misbehaviour, run side by side (each pays the interpreter's start-up)."""
    faulty = {mode: FaultyNode(node.anvil.url, mode) for mode in GARBAGE_MODES}

    def audit_against(mode: str) -> tuple[str, float, subprocess.CompletedProcess[str]]:
        started = time.monotonic()
        result = run_cli("audit", "--data-dir", str(node.site.settings.data_dir), timeout=60, env={
            "TRACELEDGER_RPC_URL": faulty[mode].url, "TRACELEDGER_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)})
        return mode, time.monotonic() - started, result

    try:
        with ThreadPoolExecutor(len(faulty)) as pool:
            outcomes = list(pool.map(audit_against, GARBAGE_MODES))
    finally:
        for proxy in faulty.values():
            proxy.close()
    for mode, elapsed, result in outcomes:
        assert_one_line_error(result, "error:", faulty[mode].url)
        print(f"\n[reliability] traceledger audit against a {mode} node ({elapsed:.1f}s): {result.stderr.strip()}")
    record_figures("chain_garbage_cli", {f"{mode}_seconds": round(elapsed, 1) for mode, elapsed, _ in outcomes}
                   | {"request_timeout_seconds": REQUEST_TIMEOUT})


def test_cli_fails_at_the_receipt_timeout_when_transactions_vanish(node: Node) -> None:
    node.faulty.set_mode("swallow-transactions")
    started = time.monotonic()
    result = run_cli("participant", "add", "--gln", gln("952100000099"), "--name", "Late Farm", "--role", "PRODUCER",
                     "--key", Account.create().address, "--data-dir", str(node.site.settings.data_dir),
                     env={"TRACELEDGER_KEY_PASSWORD": PASSWORD, "TRACELEDGER_RECEIPT_TIMEOUT": "2"}, timeout=60)
    elapsed = time.monotonic() - started
    assert_one_line_error(result, "no receipt for transaction", "after 2s", node.faulty.url)
    record_figures("chain_receipt_timeout", {"receipt_timeout_seconds": 2, "cli_seconds": round(elapsed, 1)})


def test_serve_keeps_reading_and_capturing_while_the_chain_is_broken(node: Node, tmp_path: Path) -> None:
    server = node.site.server(tmp_path / "serve.log", TRACELEDGER_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT),
                              TRACELEDGER_ANCHOR_MAX_DELAY="0.3")
    server.start()
    checks: dict[str, float] = {}
    try:
        with LedgerClient(server.url, node.site.producer) as client, httpx.Client(base_url=server.url, timeout=30) as http:
            first = client.capture(document("R0"))
            wait_for(lambda: anchored_to(http, log_size(node.site)), RESUME_BOUND, "first anchoring", server)
            event_id = first["events"][0]["eventHashID"]
            reads = {
                "health": "/healthz",
                "events": "/events?perPage=5",
                "event": "/events/" + quote(event_id, safe=""),
                "capture": f"/capture/{first['captureID']}",
                "checkpoint": "/v1/checkpoints/latest",
                "inclusion proof": f"/v1/proofs/inclusion?leaf={first['events'][0]['logIndex']}",
                "evidence": f"/v1/records/{first['events'][0]['logIndex']}/evidence",
                "trace": f"/01/{PRODUCT}/21/R0.0",
            }
            for number, mode in enumerate(GARBAGE_MODES, start=1):
                node.faulty.set_mode(mode)
                captured = client.capture(document(f"R{number}"))
                assert captured["state"] == "stored", mode
                for name, path in reads.items():
                    response = http.get(path, headers={"Accept": "application/json"})
                    assert response.status_code == 200, f"{mode}: {name} (GET {path}) -> {response.status_code} {response.text[:200]}"
                started = time.monotonic()
                check = http.get(f"/v1/traders/{uscc(1)}/check", params={"scope": "OFFSHORE_TRADE"})
                checks[mode] = round(time.monotonic() - started, 2)
                assert check.status_code == 503, f"{mode}: whitelist check -> {check.status_code} {check.text[:200]}"
                assert check.json()["error"] == "ChainError" and node.faulty.url in check.json()["detail"]
                assert checks[mode] < FAIL_FAST_BOUND * 2, f"{mode}: the check took {checks[mode]}s"  # two node requests
            node.faulty.set_mode("forward")
            size = log_size(node.site)
            resumed = wait_for(lambda: anchored_to(http, size), RESUME_BOUND, "anchoring after the chain came back", server)
            assert http.get(f"/v1/traders/{uscc(1)}/check", params={"scope": "OFFSHORE_TRADE"}).status_code == 200
    finally:
        server.stop()
    sizes, records = assert_log_intact(node)
    assert sizes[-1] == records
    record_figures("chain_garbage_serve", {f"whitelist_check_503_seconds_{mode}": s for mode, s in checks.items()}
                   | {"reads_per_mode": len(reads), "anchoring_resumed_seconds": round(resumed, 1)})


# -- the node stopped and started ------------------------------------------------------------------


def test_node_stopped_and_started_during_capture(node: Node, tmp_path: Path) -> None:
    site = node.direct()
    server = site.server(tmp_path / "serve.log", TRACELEDGER_RPC_URL=node.anvil.url, TRACELEDGER_REQUEST_TIMEOUT="2",
                         TRACELEDGER_ANCHOR_MAX_DELAY="0.3")
    server.start()
    load = CaptureLoad(server.url, site.producer, product=PRODUCT, location=FARM_GLN, tag="S")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            before = log_size(site)
            load.start()
            wait_for(lambda: anchored_to(http, before + 1), RESUME_BOUND, "anchoring under load", server)
            node.anvil.stop()
            outage_began = time.monotonic()
            time.sleep(3.0)
            outage_ended = time.monotonic()
            node.anvil.start()
            restarted = time.monotonic()
            time.sleep(1.0)
            book = load.stop()
            size = log_size(site)
            wait_for(lambda: anchored_to(http, size), RESUME_BOUND, "anchoring after the node came back", server)
            resumed = time.monotonic() - restarted  # to a checkpoint covering the whole log
    except BaseException:
        load.stop(abandon=True)
        raise
    finally:
        server.stop()
    assert not book.errors, book.errors[:3]
    during = sum(1 for moment in book.acked_at if outage_began <= moment <= outage_ended)
    assert during > 0, "no capture was acknowledged while the node was down"
    sizes, records = assert_log_intact(node)
    assert sizes[-1] == records
    with node.open_direct() as ledger:
        counts = stored_event_counts(ledger.engine)
    assert all(counts[hash_id] == 1 for hash_id in book.acknowledged)
    record_figures("chain_node_restart", {
        "outage_seconds": round(outage_ended - outage_began, 1),
        "captures_acknowledged": len(book.captures),
        "captures_acknowledged_during_outage": during,
        "events_acknowledged": len(book.acknowledged),
        "events_found_once": sum(1 for hash_id in book.acknowledged if counts[hash_id] == 1),
        "checkpoints": len(sizes),
        "anchoring_resumed_seconds": round(resumed, 1),
    })


# -- a reorganisation before the checkpoint is final ----------------------------------------------


def test_reorg_drops_a_checkpoint_and_a_key_and_both_recover(node: Node, tmp_path: Path) -> None:
    site = node.direct()
    server = site.server(tmp_path / "serve.log", TRACELEDGER_RPC_URL=node.anvil.url, TRACELEDGER_ANCHOR_MAX_DELAY="0.3")
    server.start()
    late_gln, late_key = gln("952100000088"), Account.create()
    engine = create_index_engine(site.settings.index_url)

    def mirrored(address: str) -> bool:
        with Session(engine) as session:
            return key_status(session, address).registered

    try:
        with node.open_direct() as ledger, LedgerClient(server.url, site.producer) as client, \
                httpx.Client(base_url=server.url, timeout=30) as http:
            client.capture(document("G0"))
            wait_for(lambda: anchored_to(http, log_size(site)), RESUME_BOUND, "anchoring before the fork", server)
            snapshot = ledger.chain.w3.provider.make_request("evm_snapshot", [])["result"]

            # The branch that will be dropped: a checkpoint, then a new participant's key.
            client.capture(document("G1"))
            dropped_size = log_size(site)
            wait_for(lambda: anchored_to(http, dropped_size), RESUME_BOUND, "anchoring on the doomed branch", server)
            registry = ledger.contract("ParticipantRegistry")
            ledger.chain.transact(registry.functions.registerParticipant(
                participant_id(late_gln), int(late_gln), "Late Farm", [role_id("PRODUCER")], [late_key.address]),
                sender=ledger.service_account)
            wait_for(lambda: mirrored(late_key.address), RESUME_BOUND, "the registry indexer mirroring the new key", server)

            assert ledger.chain.w3.provider.make_request("evm_revert", [snapshot])["result"] is True
            reverted_at = time.monotonic()

            def reanchored() -> bool:
                """The served checkpoint covers the dropped one again, in a block of the chain as it now is
                (the new transaction may be byte-identical to the dropped one: same nonce, same calldata)."""
                latest = latest_checkpoint(http)
                if latest is None or latest["treeSize"] < dropped_size:
                    return False
                try:
                    receipt = ledger.chain.w3.eth.get_transaction_receipt(latest["transactionHash"])
                except TransactionNotFound:
                    return False
                return "0x" + bytes(receipt["blockHash"]).hex() == latest["blockHash"]
            anchorer_recovered = wait_for(reanchored, RESUME_BOUND, "the anchorer re-anchoring the dropped checkpoint", server)
            wait_for(lambda: not mirrored(late_key.address), RESUME_BOUND, "the indexer forgetting the dropped key", server)
            indexer_recovered = time.monotonic() - reverted_at

            with LedgerClient(server.url, late_key) as late, pytest.raises(ClientError) as refused:
                late.capture(document("G2"))
            assert refused.value.status == 401, refused.value
            client.capture(document("G3"))  # the producer, registered on both branches, goes on
            wait_for(lambda: anchored_to(http, log_size(site)), RESUME_BOUND, "anchoring after the reorg", server)
    finally:
        server.stop()
        engine.dispose()
    with node.open_direct() as ledger:
        # The server may have stopped before a mirror's next sync saw the reorganisation: audit says only that,
        # and the sync `serve` runs on start brings the mirrors back to the chain.
        stale = audit_index(ledger)
        assert all(d.subject.endswith(" mirror") and "is not on the chain" in d.problem for d in stale.discrepancies), \
            [str(d) for d in stale.discrepancies]
        sync_registry(ledger)
        sync_whitelist_mirror(ledger)
        status_mirror(ledger).sync()
    sizes, records = assert_log_intact(node)
    assert dropped_size in sizes and sizes[-1] == records
    assert "chain reorganised" in server.log_path.read_text()
    record_figures("chain_reorg", {
        "dropped_checkpoint_size": dropped_size,
        "checkpoints_after": len(sizes),
        "anchorer_recovered_seconds": round(anchorer_recovered, 2),
        "indexer_recovered_seconds": round(indexer_recovered, 2),
    })
