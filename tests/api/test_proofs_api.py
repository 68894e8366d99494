"""The proof API, served by the real app with its background anchorer."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.config import Settings
from ledger.log.verify import verify_consistency, verify_inclusion
from ledger.records.append import NewRecord, append_records


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path / "node", key_password="pw", anchor_max_delay=0.2)
    init_data_dir(settings)
    with TestClient(create_app(settings)) as client:
        yield client


def wait_for_checkpoint(client: TestClient, size: int) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = client.get("/v1/checkpoints/latest")
        if response.status_code == 200 and response.json()["treeSize"] >= size:
            return response.json()
        time.sleep(0.05)
    raise AssertionError(f"checkpoint {size} not anchored within 10 s")


def append(client: TestClient, n: int) -> None:
    append_records(client.app.state.ledger.engine, [NewRecord("test.note", {"n": i}) for i in range(n)])


def b(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string.removeprefix("0x"))


def test_healthz(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_background_anchoring_and_proofs_that_verify_offline(client) -> None:
    assert client.get("/v1/checkpoints/latest").status_code == 404
    append(client, 9)
    first = wait_for_checkpoint(client, 9)
    assert first["status"] == "anchored" and first["transactionHash"] and first["blockHash"]
    assert first["contract"] == client.app.state.ledger.manifest.contracts["CheckpointAnchor"]
    append(client, 14)
    latest = wait_for_checkpoint(client, 23)

    proof = client.get("/v1/proofs/inclusion", params={"leaf": 4}).json()
    assert proof["treeSize"] == 23 and proof["checkpoint"]["rootHash"] == latest["rootHash"]
    verify_inclusion(b(proof["leafHash"]), 4, 23, [b(h) for h in proof["proof"]], b(latest["rootHash"]))

    consistency = client.get("/v1/proofs/consistency", params={"from": 9, "to": 23}).json()
    verify_consistency(9, 23, [b(h) for h in consistency["proof"]], b(first["rootHash"]), b(latest["rootHash"]))
    assert client.get("/v1/checkpoints/9").json()["rootHash"] == first["rootHash"]


def test_bad_requests_are_4xx_with_the_field_named(client) -> None:
    append(client, 3)
    wait_for_checkpoint(client, 3)
    too_far = client.get("/v1/proofs/inclusion", params={"leaf": 3})
    assert too_far.status_code == 400 and "leaf" in too_far.json()["detail"]
    assert client.get("/v1/proofs/inclusion", params={"leaf": -1}).status_code == 422
    assert "leaf" in client.get("/v1/proofs/inclusion", params={"leaf": "x"}).json()["detail"]
    backwards = client.get("/v1/proofs/consistency", params={"from": 3, "to": 2})
    assert backwards.status_code == 400 and "from" in backwards.json()["detail"]
    assert client.get("/v1/checkpoints/77").status_code == 404
    beyond = client.get("/v1/proofs/consistency", params={"from": 1, "to": 99})
    assert beyond.status_code == 404 and "99" in beyond.json()["detail"]
