"""The whitelist API answers from chain state at a named block: each status
distinctly, 400 naming the bad character of a malformed USCC, and a history
rebuilt from events that agrees with the contract."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from ledger.whitelist.model import CreditLevel
from ledger.whitelist.service import Whitelist
from tests.whitelist.conftest import EXPEDITED, OFFSHORE, YEAR, content, make_data_dir, uscc, whitelist_app

NOW = int(time.time())
TRADERS = {
    "allowed": uscc(100),
    "unknown": uscc(101),
    "revoked": uscc(102),
    "suspended": uscc(103),
    "dishonest": uscc(104),
    "not_yet_valid": uscc(105),
    "expired": uscc(106),
    "scope_not_held": uscc(107),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = make_data_dir(tmp_path_factory.mktemp("api"))
    with TestClient(whitelist_app(settings)) as client:
        ledger = client.app.state.ledger
        w, sender = Whitelist.from_ledger(ledger), ledger.service_account
        t = TRADERS
        w.set_entry(content(t["allowed"]), sender=sender)
        w.set_entry(content(t["revoked"]), sender=sender)
        w.revoke(t["revoked"], "smuggling conviction (case 2026-0420)", sender=sender)
        w.set_entry(content(t["suspended"]), sender=sender)
        w.suspend(t["suspended"], "under investigation", sender=sender)
        w.set_entry(content(t["dishonest"], level=CreditLevel.DISHONEST, scopes=0), sender=sender)
        w.set_entry(content(t["not_yet_valid"], valid_from=NOW + YEAR, valid_until=NOW + 2 * YEAR), sender=sender)
        w.set_entry(content(t["expired"], valid_from=NOW - 2 * YEAR, valid_until=NOW - YEAR), sender=sender)
        w.set_entry(content(t["scope_not_held"], scopes=EXPEDITED), sender=sender)
        yield client


def test_each_status_is_a_distinct_answer_read_at_a_named_block(client) -> None:
    chain = client.app.state.ledger.chain
    seen = set()
    for status, code in TRADERS.items():
        response = client.get(f"/v1/traders/{code}/check", params={"scope": "OFFSHORE_TRADE"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == status and body["allowed"] is (status == "allowed"), body
        assert body["uscc"] == code and body["scopes"] == ["OFFSHORE_TRADE"] and body["reason"]
        block = chain.w3.eth.get_block(body["blockNumber"])
        assert body["blockHash"] == "0x" + bytes(block["hash"]).hex()
        assert body["contract"] == client.app.state.ledger.manifest.contracts["TraderWhitelist"]
        seen.add(body["reason"])
    assert len(seen) == len(TRADERS), "every status has its own explanation"
    revoked = client.get(f"/v1/traders/{TRADERS['revoked']}/check").json()
    assert "smuggling conviction (case 2026-0420)" in revoked["reason"] and revoked["entry"]["status"] == "revoked"
    assert client.get(f"/v1/traders/{TRADERS['unknown']}/check").json()["entry"] is None


def test_at_and_scopes(client) -> None:
    code = TRADERS["not_yet_valid"]
    later = datetime.fromtimestamp(NOW + YEAR + 10, UTC).isoformat()
    assert client.get(f"/v1/traders/{code}/check", params={"at": later}).json()["status"] == "allowed"
    assert client.get(f"/v1/traders/{code}/check", params={"at": str(NOW + 3 * YEAR)}).json()["status"] == "expired"
    both = client.get(f"/v1/traders/{TRADERS['scope_not_held']}/check",
                      params={"scope": ["EXPEDITED_CLEARANCE", "OFFSHORE_TRADE"]}).json()
    assert both["status"] == "scope_not_held" and "not OFFSHORE_TRADE" in both["reason"]
    only = client.get(f"/v1/traders/{TRADERS['scope_not_held']}/check", params={"scope": "EXPEDITED_CLEARANCE"}).json()
    assert only["allowed"] is True
    assert client.get(f"/v1/traders/{code}/check", params={"at": "2026-13-45"}).json()["detail"].startswith("at: ")


@pytest.mark.parametrize(("code", "detail"), [
    ("91350200I76049653A", "uscc: character 'I' at position 9 is not allowed"),
    ("91350200776049653B", "uscc: check character is 'B', expected 'A'"),
    ("9135", "uscc: must be 18 characters, got 4"),
])
def test_a_malformed_uscc_is_a_400_naming_the_character(client, code: str, detail: str) -> None:
    for path in ("", "/check", "/history"):
        response = client.get(f"/v1/traders/{code}{path}")
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith(detail) and response.json()["error"] == "UsccError"


def test_other_bad_requests(client) -> None:
    bad_scope = client.get(f"/v1/traders/{TRADERS['allowed']}/check", params={"scope": "FAST_LANE"})
    assert bad_scope.status_code == 400 and "scope: unknown scope 'FAST_LANE'" in bad_scope.json()["detail"]
    assert client.get(f"/v1/traders/{TRADERS['allowed']}/history", params={"source": "gossip"}).status_code == 400
    unknown = client.get(f"/v1/traders/{TRADERS['unknown']}")
    assert unknown.status_code == 404 and "not on the whitelist" in unknown.json()["detail"]
    assert client.get(f"/v1/traders/{TRADERS['unknown']}/history").status_code == 404


def test_the_entry_is_read_from_the_chain(client) -> None:
    body = client.get(f"/v1/traders/{TRADERS['suspended']}").json()
    assert body["status"] == "suspended" and body["statusReason"] == "under investigation"
    assert body["level"] == "ADVANCED_CERTIFIED" and body["scopes"] == ["OFFSHORE_TRADE", "EXPEDITED_CLEARANCE"]
    assert body["version"] == 2 and body["blockNumber"] >= body["updatedAtBlock"]


def test_history_from_the_mirror_equals_history_from_the_chain(client) -> None:
    ledger = client.app.state.ledger
    w, code = Whitelist.from_ledger(ledger), TRADERS["allowed"]
    w.suspend(code, "random inspection", sender=ledger.service_account)
    w.lift_suspension(code, "inspection passed", sender=ledger.service_account)
    w.set_entry(content(code, scopes=OFFSHORE, evidence="renewal"), sender=ledger.service_account)
    index = client.get(f"/v1/traders/{code}/history").json()
    chain = client.get(f"/v1/traders/{code}/history", params={"source": "chain"}).json()
    assert index["source"] == "index" and chain["source"] == "chain"
    assert index["changes"] == chain["changes"]
    assert [c["change"] for c in index["changes"]] == ["listed", "suspended", "suspension_lifted", "updated"]
    assert index["matchesChain"] and chain["matchesChain"]
    current = client.get(f"/v1/traders/{code}").json()
    assert {k: index["entry"][k] for k in ("version", "scopes", "status", "dossierHash")} == \
        {k: current[k] for k in ("version", "scopes", "status", "dossierHash")}
    assert all(c["officer"] == ledger.service_account.address and c["blockTime"] for c in index["changes"])


def test_an_officer_without_a_node_signs_and_the_server_relays(client) -> None:
    """The officer fetches the typed data, signs it like a wallet would, and posts it; the contract checks it."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from ledger.chain.deploy import participant_id, role_id
    from ledger.gs1 import with_check_digit

    ledger = client.app.state.ledger
    officer, outsider = Account.create(), Account.create()
    gln = with_check_digit("952000000999")
    ledger.chain.transact(ledger.contract("ParticipantRegistry").functions.registerParticipant(
        participant_id(gln), int(gln), "Ningbo Customs", [role_id("CUSTOMS")], [officer.address]),
        sender=ledger.service_account)
    code = uscc(150)

    def signed(account, *, action="SetEntry", extra=None, nonce_of=None):
        typed = client.get(f"/v1/traders/{code}/changes/typed-data",
                           params={"action": action, "officer": (nonce_of or account).address}).json()
        typed["message"].update(extra or {"level": 2, "scopes": OFFSHORE, "validFrom": NOW - 60,
                                          "validUntil": NOW + YEAR, "dossierHash": "0x" + "ab" * 32})
        signature = Account.sign_message(encode_typed_data(full_message=typed), account.key).signature
        return {"action": action, "message": typed["message"], "officer": (nonce_of or account).address,
                "signature": "0x" + bytes(signature).hex()}

    request = signed(officer)
    response = client.post(f"/v1/traders/{code}/changes", json=request)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["change"], body["version"], body["officer"]) == ("EntrySet", 1, officer.address)
    assert body["relayer"] == ledger.service_account.address
    assert client.get(f"/v1/traders/{code}/check", params={"scope": "OFFSHORE_TRADE"}).json()["allowed"]

    replayed = client.post(f"/v1/traders/{code}/changes", json=request)
    assert replayed.status_code == 401 and "replay" in replayed.json()["detail"]
    forged = client.post(f"/v1/traders/{code}/changes", json=signed(outsider, nonce_of=officer))
    assert forged.status_code == 401 and f"made by {outsider.address}" in forged.json()["detail"]
    not_customs = client.post(f"/v1/traders/{code}/changes", json=signed(outsider))
    assert not_customs.status_code == 403 and "CUSTOMS" in not_customs.json()["detail"]
    lift = client.post(f"/v1/traders/{code}/changes",
                       json=signed(officer, action="LiftSuspension", extra={"reason": "nothing to lift"}))
    assert lift.status_code == 409 and "not suspended" in lift.json()["detail"]
    wrong_trader = client.post(f"/v1/traders/{uscc(151)}/changes", json=signed(officer))
    assert wrong_trader.status_code == 400 and wrong_trader.json()["detail"].startswith("message.uscc: ")
    malformed = client.post(f"/v1/traders/{code}/changes", json={**signed(officer), "signature": "0x1234"})
    assert malformed.status_code == 400 and malformed.json()["detail"].startswith("signature: must be 65 bytes")
    assert client.get(f"/v1/traders/{code}").json()["version"] == 1
    changes = client.get(f"/v1/traders/{code}/history").json()["changes"]
    assert [c["officer"] for c in changes] == [officer.address]


@pytest.mark.anvil
def test_the_api_on_a_json_rpc_node(anvil, tmp_path) -> None:
    """The same answers with the data dir on anvil (raw JSON-RPC reads on the check path)."""
    settings = make_data_dir(tmp_path, rpc_url=anvil.url)
    with TestClient(whitelist_app(settings)) as client:
        ledger = client.app.state.ledger
        w, sender = Whitelist.from_ledger(ledger), ledger.service_account
        code = uscc(200)
        w.set_entry(content(code, scopes=EXPEDITED), sender=sender)
        held = client.get(f"/v1/traders/{code}/check", params={"scope": "EXPEDITED_CLEARANCE"}).json()
        assert held["allowed"] and held["entry"]["version"] == 1
        block = ledger.chain.w3.eth.get_block(held["blockNumber"])
        assert held["blockHash"] == "0x" + bytes(block["hash"]).hex()
        assert client.get(f"/v1/traders/{code}/check", params={"scope": "OFFSHORE_TRADE"}).json()["status"] == "scope_not_held"
        assert client.get(f"/v1/traders/{uscc(201)}/check").json()["status"] == "unknown"
        w.revoke(code, "licence withdrawn", sender=sender)
        assert client.get(f"/v1/traders/{code}/check").json()["status"] == "revoked"
        history = client.get(f"/v1/traders/{code}/history").json()
        assert [c["change"] for c in history["changes"]] == ["listed", "revoked"] and history["matchesChain"]
        assert client.get("/v1/traders/91350200I76049653A/check").status_code == 400
