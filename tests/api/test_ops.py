"""Operations: /readyz names each failing check, /metrics counts what happened,
and the logs are structured, carry request ids and never hold a secret."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from eth_account import Account
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import api.health
from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.client import ClientError, LedgerClient, epcis_document
from ledger.config import Settings
from ledger.epcis.build import gln, gtin, item, lot, object_event
from ledger.keystore import create_keystore, load_keystore
from ledger.logs import REQUEST_ID, JsonFormatter, TextFormatter, configure_logging
from ledger.participants.service import register_participant
from ledger.records.append import NewRecord, append_records
from tests.api.test_proofs_api import client  # noqa: F401 (a served data dir, no participants)
from tests.capture.conftest import PARTIES, node  # noqa: F401 (the served ledger with one participant per role)
from tests.support import TEST_SCRYPT_N, AnvilProcess, anvil_binary, unavailable

TOMATO = gtin("0952100000010")
FARM_GLN = gln(PARTIES["farm"][0])


def harvest(node, lot_number: str) -> dict:  # noqa: F811 (node: a fixture value here)
    return object_event(quantities=[(lot(TOMATO, lot_number), 1200, "KGM")], action="ADD", biz_step="commissioning",
                        disposition="active", location=node.gln("farm"))


def scrape(http: TestClient) -> dict[str, float]:
    """Samples by name, with labels as ``name{k=v,...}`` (sorted)."""
    response = http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The readiness probe's clock, moved by the test instead of by waiting."""
    fake = FakeClock()
    monkeypatch.setattr(api.health.time, "monotonic", fake)
    return fake


# -- readiness ---------------------------------------------------------------


def test_readyz_reports_every_check_and_probes_the_chain_once_a_second(client, clock, monkeypatch) -> None:  # noqa: F811
    assert client.get("/healthz").json() == {"status": "ok"}
    probes = []
    original = api.health.ReadinessProbe._probe_chain
    monkeypatch.setattr(api.health.ReadinessProbe, "_probe_chain", lambda self: probes.append(1) or original(self))
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and set(body["checks"]) == {"chain", "database", "anchoring"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["chain"]["blockNumber"] >= 1
    assert body["checks"]["anchoring"]["maxLeaves"] == Settings().ready_max_lag_leaves

    for _ in range(20):
        assert client.get("/readyz").status_code == 200
    assert len(probes) == 1, "a load balancer polling /readyz must not poll the chain node as often"
    clock.now += api.health.CHAIN_PROBE_TTL
    assert client.get("/readyz").status_code == 200
    assert len(probes) == 2


def test_readyz_fails_when_anchoring_lags_naming_both_bounds(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "node", key_password="pw", anchor_enabled=False,
                        ready_max_lag_leaves=3, ready_max_lag_seconds=0.05)
    init_data_dir(settings)
    with TestClient(create_app(settings)) as http:
        append_records(http.app.state.ledger.engine, [NewRecord("test.note", {"n": n}) for n in range(4)])
        time.sleep(0.1)  # past the 0.05 s bound on the oldest waiting record
        answer = http.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["error"] == "NotReady" and body["status"] == "unready" and body["failing"] == ["anchoring"]
    assert "anchoring: 4 records wait to be anchored (bound 3)" in body["detail"]
    assert "bound 0.05s" in body["detail"]
    assert body["checks"]["anchoring"]["waitingLeaves"] == 4 and body["checks"]["chain"]["ok"] is True


@pytest.mark.anvil
@pytest.mark.postgres
def test_readyz_names_an_unreachable_index_then_an_unreachable_chain(tmp_path, postgres_url, clock) -> None:
    binary = anvil_binary()
    if binary is None:
        unavailable("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    node = AnvilProcess(binary, "--block-base-fee-per-gas", "0")  # noqa: F811 (a chain node, not the fixture)
    node.start()
    database = sa.engine.make_url(postgres_url).database
    admin = sa.create_engine(postgres_url.replace(f"/{database}", "/postgres"), isolation_level="AUTOCOMMIT")
    try:
        settings = Settings(data_dir=tmp_path / "node", rpc_url=node.url, database_url=postgres_url, gas_price=0,
                            key_password="pw")
        init_data_dir(settings)
        with TestClient(create_app(settings)) as http:
            assert http.get("/readyz").status_code == 200

            with admin.connect() as conn:  # the index goes away: no new connection, the open ones cut
                conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
                # The lease's own connection is spared: AnchorLease does not notice that it died (and
                # would raise releasing it at shutdown), which is the lease's matter, not readiness's.
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid "
                                     "NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"), {"d": database})
            # pg_terminate_backend only signals the backends: a pooled connection may answer for a moment.
            deadline = time.monotonic() + 10
            while (down := http.get("/readyz")).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert down.status_code == 503
            assert down.json()["failing"] == ["database", "anchoring"]
            assert "database: index unreachable" in down.json()["detail"]

            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
            assert http.get("/readyz").status_code == 200, "ready again once the index is back"

            node.stop()
            cached = http.get("/readyz")
            assert cached.status_code == 200, "the last chain probe is reused for a second"
            clock.now += api.health.CHAIN_PROBE_TTL
            gone = http.get("/readyz")
            assert gone.status_code == 503 and gone.json()["failing"] == ["chain"]
            assert f"chain: chain node {node.url} unreachable" in gone.json()["detail"]
    finally:
        node.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()


# -- metrics -----------------------------------------------------------------


def test_metrics_count_captures_refusals_latency_by_route_and_anchoring(node) -> None:  # noqa: F811
    before = scrape(node.http)
    farm, carrier = node.client("farm"), node.client("carrier")
    stored = farm.capture(epcis_document([harvest(node, "OPS-1"), harvest(node, "OPS-2")]))
    with pytest.raises(ClientError) as policy:
        carrier.capture(epcis_document([harvest(node, "OPS-3")]))  # a distributor may not commission
    with pytest.raises(ClientError) as forged:
        signed = farm.sign(epcis_document([harvest(node, "OPS-4")]))
        farm.submit(type(signed)(signed.document, {**signed.headers, "TL-Signer": node.keys["carrier"].address}, signed.hash_ids))
    bad_gtin = TOMATO[:-1] + str((int(TOMATO[-1]) + 1) % 10)
    with pytest.raises(ClientError) as invalid:
        farm.capture(epcis_document([object_event(epcs=[item(bad_gtin, "S1")], biz_step="shipping", location=node.gln("farm"))]))
    assert (policy.value.status, forged.value.status, invalid.value.status) == (403, 401, 400)
    farm.capture_status(stored["captureID"])
    node.http.get("/no/such/route")

    log_size = stored["events"][-1]["logIndex"] + 1

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    # The anchorer commits the checkpoint row before it counts it, so a scrape
    # can fall between the two: wait for both.
    deadline = time.monotonic() + 10
    after = scrape(node.http)
    while after["traceledger_anchored_leaves"] < log_size or delta("traceledger_checkpoints_anchored_total") < 1:
        assert time.monotonic() < deadline, "not anchored and counted within 10 s"
        time.sleep(0.05)
        after = scrape(node.http)

    assert delta("traceledger_capture_events_total{result=accepted}") == 2
    assert delta("traceledger_capture_events_total{result=refused}") == 3
    assert delta("traceledger_capture_refusals_total{reason=policy}") == 1
    assert delta("traceledger_capture_refusals_total{reason=unauthenticated}") == 1
    assert delta("traceledger_capture_refusals_total{reason=invalid}") == 1
    latency = "traceledger_http_request_duration_seconds_count{{method={},route={},status={}}}"
    assert delta(latency.format("POST", "/capture", "2xx")) == 1
    assert delta(latency.format("POST", "/capture", "4xx")) == 3
    assert delta(latency.format("GET", "/capture/{capture_id}", "2xx")) == 1
    assert delta(latency.format("GET", "unmatched", "4xx")) == 1
    assert not [name for name in after if stored["captureID"] in name], "raw paths would make a series per capture"

    assert after["traceledger_log_leaves"] == after["traceledger_anchored_leaves"] == log_size
    assert after["traceledger_anchoring_lag_leaves"] == 0 and after["traceledger_anchoring_lag_seconds"] == 0
    assert after["traceledger_checkpoint_age_seconds"] >= 0 and after["traceledger_index_reachable"] == 1
    assert after["traceledger_anchor_lease_held"] == 1


# -- logs --------------------------------------------------------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Logging configured as `serve` does (JSON), into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("uvicorn.access").disabled)
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("uvicorn.access").disabled = saved[2]
    logging.captureWarnings(False)


def test_json_logs_carry_request_fields_and_no_secret(tmp_path, log_output) -> None:
    password = "correct-horse-battery-7341"
    key_file = tmp_path / "service.json"
    create_keystore(key_file, password, scrypt_n=TEST_SCRYPT_N)
    settings = Settings(data_dir=tmp_path / "node", key_file=key_file, key_password=password, anchor_max_delay=0.2)
    init_data_dir(settings)
    farm = Account.create()
    with TestClient(create_app(settings)) as http:
        register_participant(http.app.state.ledger, gln=FARM_GLN, name="Green Valley Farm", roles=["PRODUCER"],
                             keys=[farm.address])
        client = LedgerClient(account=farm, http=http)
        event = object_event(quantities=[(lot(TOMATO, "LOG-1"), 5, "KGM")], action="ADD", biz_step="commissioning",
                             disposition="active", location=FARM_GLN)
        signed = client.sign(epcis_document([event]))
        traced = http.post("/capture", json=signed.document, headers={**signed.headers, "X-Request-ID": "trace-42"})
        assert traced.status_code == 202 and traced.headers["x-request-id"] == "trace-42"
        forged = {**signed.headers, "TL-Nonce": str(int(signed.headers["TL-Nonce"]) + 1)}
        assert http.post("/capture", json=signed.document, headers=forged).status_code == 401
        echoed = http.get("/healthz", headers={"X-Request-ID": "trace-43"})
        replaced = http.get("/healthz", headers={"X-Request-ID": "two words"})
        service_key = load_keystore(key_file, password).key.hex()
    assert echoed.headers["x-request-id"] == "trace-43"
    generated = replaced.headers["x-request-id"]
    assert generated != "two words" and len(generated) == 24 and int(generated, 16) >= 0

    output = log_output.getvalue()
    entries = [json.loads(line) for line in output.splitlines()]
    assert entries and all({"ts", "level", "logger", "msg"} <= entry.keys() for entry in entries)
    captured = [e for e in entries if e.get("route") == "/capture" and e.get("request_id") == "trace-42"]
    assert len(captured) == 1
    assert captured[0]["method"] == "POST" and captured[0]["status"] == 202 and captured[0]["duration_ms"] > 0
    assert any(e.get("route") == "/capture" and e.get("status") == 401 for e in entries)
    assert any(e.get("request_id") == generated for e in entries)

    secrets = {"the keystore password": password, "the service key": service_key.removeprefix("0x"),
               "the participant key": farm.key.hex().removeprefix("0x"),
               "the capture signature": signed.headers["TL-Signature"].removeprefix("0x")}
    leaked = [what for what, secret in secrets.items() if secret.lower() in output.lower()]
    assert leaked == []


def test_formatters_redact_secrets_and_keep_one_record_per_line() -> None:
    signature = "0x" + "ab" * 65
    record = logging.LogRecord("ledger.test", logging.WARNING, __file__, 1,
                               "relay failed: signature %s, password=%s\nforged second line", (signature, "hunter2"), None)
    token = REQUEST_ID.set("req-7")
    try:
        entry = json.loads(JsonFormatter().format(record))
        text = TextFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    for rendered in (entry["msg"], text):
        assert "ab" * 65 not in rendered and "hunter2" not in rendered
        assert "[redacted signature]" in rendered and "password=[redacted]" in rendered
    assert entry["request_id"] == "req-7" and entry["level"] == "warning" and entry["logger"] == "ledger.test"
    assert entry["ts"].endswith("Z")
    assert len(text.splitlines()) == 1 and text.endswith("[req-7]")
