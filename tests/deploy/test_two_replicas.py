"""Two `traceledger serve` replicas on one PostgreSQL database and one chain node.

The deployment of deploy/docker-compose.yml without Docker: anvil stands in
for Besu (zero base fee and gas price 0, as on the QBFT network), the data
dir is initialised once with the guide's command and served by both
replicas. Captures go through both at once; exactly one replica holds the
anchoring lease and anchors; every record ends up anchored and the audit
finds nothing wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families

from ledger.anchor.lease import ANCHOR_LEASE_LOCK
from ledger.audit import audit_index
from ledger.client import LedgerClient, epcis_document
from ledger.config import Settings
from ledger.epcis.build import gln, gtin, lot, object_event
from ledger.keystore import create_keystore
from ledger.participants.service import register_participant
from ledger.runtime import open_ledger
from tests.support import REPO_ROOT, TEST_SCRYPT_N, AnvilProcess, anvil_binary, free_port, run_cli, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.anvil, pytest.mark.slow]

TOMATO = gtin("0952100000010")
CLIENTS_PER_REPLICA = 2
DOCUMENTS_PER_CLIENT = 3
EVENTS_PER_DOCUMENT = 50


@pytest.fixture
def zero_gas_anvil():
    """A node of its own, free gas like the Besu network (base fee 0, gas price 0)."""
    binary = anvil_binary()
    if binary is None:
        unavailable("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    node = AnvilProcess(binary, "--block-base-fee-per-gas", "0")
    node.start()
    yield node
    node.stop()


def start_replica(data_dir: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"replica exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"replica at {url} did not answer /healthz within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def scrape(url: str) -> dict[str, float]:
    """Unlabelled samples by name, labelled ones as ``name{label=value,...}``."""
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(url + "/metrics", timeout=10).text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def capture_lots(url: str, account, prefix: str) -> int:
    """Commission ``DOCUMENTS_PER_CLIENT`` documents of distinct lots; return the events stored."""
    stored = 0
    with LedgerClient(url, account) as client:
        for document in range(DOCUMENTS_PER_CLIENT):
            events = [object_event(quantities=[(lot(TOMATO, f"{prefix}-{document}-{n}"), 100, "KGM")], action="ADD",
                                   biz_step="commissioning", disposition="active", location=gln("952100000001"))
                      for n in range(EVENTS_PER_DOCUMENT)]
            result = client.capture(epcis_document(events))
            stored += sum(event["status"] == "stored" for event in result["events"])
    return stored


def test_two_replicas_capture_concurrently_one_anchors_and_the_log_audits_clean(
    zero_gas_anvil, postgres_url, tmp_path
) -> None:
    key_file = tmp_path / "secrets" / "service.json"
    create_keystore(key_file, "replica-secret", scrypt_n=TEST_SCRYPT_N)  # handed to both replicas, as a Docker secret
    data_dir = tmp_path / "volume" / "data"
    shared = {
        "TRACELEDGER_DATABASE_URL": postgres_url,
        "TRACELEDGER_CHAIN_ID": "31337",
        "TRACELEDGER_GAS_PRICE": "0",
        "TRACELEDGER_KEY_FILE": str(key_file),
        "TRACELEDGER_KEY_PASSWORD": "replica-secret",
        "TRACELEDGER_ANCHOR_MAX_DELAY": "0.3",
        "TRACELEDGER_LOG_FORMAT": "json",
    }
    initialised = run_cli("init", "--data-dir", str(data_dir), "--rpc-url", zero_gas_anvil.url, env=shared)
    assert initialised.returncode == 0, initialised.stderr

    settings = Settings(data_dir=data_dir, database_url=postgres_url, gas_price=0, key_file=key_file,
                        key_password="replica-secret")
    producers = [Account.create() for _ in range(2 * CLIENTS_PER_REPLICA)]
    with open_ledger(settings) as ledger:  # before the replicas start: their registry mirrors sync at start-up
        register_participant(ledger, gln=gln("952100000001"), name="Green Valley Farm", roles=["PRODUCER"],
                             keys=[p.address for p in producers])

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELEDGER_")} | shared
    logs = [tmp_path / "replica-a.log", tmp_path / "replica-b.log"]
    replicas = [start_replica(data_dir, env, log) for log in logs]
    try:
        for (process, url), log in zip(replicas, logs, strict=True):
            wait_healthy(process, url, log)
        urls = [url for _, url in replicas]

        with ThreadPoolExecutor(len(producers)) as pool:
            jobs = [pool.submit(capture_lots, urls[n % 2], producer, f"P{n}") for n, producer in enumerate(producers)]
            stored = sum(job.result() for job in jobs)
        events = len(producers) * DOCUMENTS_PER_CLIENT * EVENTS_PER_DOCUMENT
        records = events + len(producers) * DOCUMENTS_PER_CLIENT  # one capture record per document
        assert stored == events

        deadline = time.monotonic() + 30
        while (metrics := scrape(urls[0]))["traceledger_anchored_leaves"] < records:
            assert time.monotonic() < deadline, f"not all anchored within 30 s: {metrics}"
            time.sleep(0.1)
        both = [scrape(url) for url in urls]

        assert all(m["traceledger_log_leaves"] == records and m["traceledger_anchoring_lag_leaves"] == 0 for m in both)
        held = [m["traceledger_anchor_lease_held"] for m in both]
        anchored = [m["traceledger_checkpoints_anchored_total"] for m in both]
        assert sorted(held) == [0.0, 1.0], f"exactly one replica holds the anchoring lease: {held}"
        anchorer = held.index(1.0)
        assert anchored[anchorer] >= 1 and anchored[1 - anchorer] == 0, f"the idle replica anchored: {anchored}"
        per_replica = events // 2
        assert [m["traceledger_capture_events_total{result=accepted}"] for m in both] == [per_replica, per_replica]
        for url in urls:
            ready = httpx.get(url + "/readyz", timeout=10)
            assert ready.status_code == 200, ready.text

        admin = sa.create_engine(postgres_url)
        with admin.connect() as conn:
            # pg_locks spans the cluster: other tests' databases hold leases of their own.
            leases = conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :k "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ), {"k": ANCHOR_LEASE_LOCK}).scalar_one()
        admin.dispose()
        assert leases == 1
    finally:
        for process, _ in replicas:
            process.terminate()
        for process, _ in replicas:
            process.wait(timeout=60)

    with open_ledger(settings) as ledger:
        report = audit_index(ledger)
    assert report.ok, report.discrepancies
    assert report.records == records and report.anchored_size == records

    lines = [[json.loads(line) for line in log.read_text().splitlines() if line.strip()] for log in logs]
    for entries in lines:
        assert all({"ts", "level", "logger", "msg"} <= entry.keys() for entry in entries)
        assert any(e.get("route") == "/capture" and e.get("status") == 202 and e.get("request_id") for e in entries)
    anchoring = [sum(e["msg"].startswith("anchored checkpoint") for e in entries) for entries in lines]
    assert anchoring[anchorer] >= 1 and anchoring[1 - anchorer] == 0
