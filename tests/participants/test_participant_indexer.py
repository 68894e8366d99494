"""The registry mirror follows the chain: every event kind, idempotent syncs,
restarts from the cursor, reorgs, and the capture path's key questions."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from eth_account import Account
from sqlmodel import Session, select

from ledger.chain.deploy import OPERATOR_GLN, participant_id, role_id
from ledger.chain.embedded import EmbeddedChain
from ledger.gs1 import with_check_digit
from ledger.participants.errors import KeyNotAuthorisedError
from ledger.participants.indexer import RegistryIndexer, key_status, participant_by_gln, registry_history
from ledger.participants.models import RegistryEvent, RegistryEventKind
from ledger.participants.roles import ROLE_BITS, ROLES
from tests.participants.mirror import assert_mirror_matches_chain, dump

FARM = with_check_digit("400000000001")
MILL = with_check_digit("400000000002")
SHOP = with_check_digit("400000000003")
DEPOT = with_check_digit("400000000004")


def _register(deployment, gln: str, name: str, roles: list[str], keys: list[str]) -> None:
    registry = deployment.registry
    deployment.chain.transact(
        registry.functions.registerParticipant(participant_id(gln), int(gln), name, [role_id(r) for r in roles], keys),
        sender=deployment.admin,
    )


def _do(deployment, fn_name: str, *args) -> None:
    deployment.chain.transact(getattr(deployment.registry.functions, fn_name)(*args), sender=deployment.admin)


def test_role_bits_match_the_contract(deployment) -> None:
    for name in ROLES:
        assert deployment.chain.call(deployment.registry.functions.roleBit(role_id(name))) == ROLE_BITS[name]


def test_mirror_follows_every_registry_event(deployment, engine, indexer) -> None:
    k1, k2, k3, k4 = (Account.create().address for _ in range(4))
    assert indexer.sync() == 4  # the operator: registered, ADMIN, ANCHOR, key
    _register(deployment, FARM, "Green Farm", ["PRODUCER", "DISTRIBUTOR"], [k1, k2])
    _register(deployment, SHOP, "Corner Shop", ["RETAILER"], [k3])
    farm, shop = participant_id(FARM), participant_id(SHOP)
    _do(deployment, "suspendParticipant", shop)
    _do(deployment, "suspendParticipant", farm)
    _do(deployment, "reactivateParticipant", farm)
    _do(deployment, "grantParticipantRole", farm, role_id("PROCESSOR"))
    _do(deployment, "revokeParticipantRole", farm, role_id("DISTRIBUTOR"))
    _do(deployment, "addKey", farm, k4)
    _do(deployment, "revokeKey", k1)

    assert indexer.sync() == 5 + 3 + 7
    assert_mirror_matches_chain(engine, deployment.chain, deployment.registry, {OPERATOR_GLN, FARM, SHOP})
    with Session(engine) as session:
        info = participant_by_gln(session, FARM)
        assert info is not None and info.status == "active"
        assert info.roles == ("PRODUCER", "PROCESSOR")
        assert [k.address for k in info.active_keys] == [k2, k4]
        assert [k.address for k in info.keys if k.revoked] == [k1]
        history = registry_history(session, gln=FARM)
        kinds = {event.kind for event in registry_history(session)}
        events = session.exec(select(RegistryEvent)).all()
    assert kinds == {kind.value for kind in RegistryEventKind}
    assert [e.kind for e in history][-6:] == [
        "ParticipantSuspended", "ParticipantReactivated", "ParticipantRoleGranted", "ParticipantRoleRevoked", "KeyAdded", "KeyRevoked",
    ]
    assert all(e.gln == FARM for e in history)
    # One row per log: same as the chain's own count of the registry's seven events.
    logs = deployment.chain.w3.eth.get_logs({"address": deployment.registry.address, "fromBlock": 0, "toBlock": "latest"})
    ours = [log for log in logs if bytes(log["topics"][0]) in indexer._events_by_topic]
    assert len(events) == len(ours)
    assert indexer.cursor() == (deployment.chain.w3.eth.block_number,
                                "0x" + bytes(deployment.chain.w3.eth.get_block("latest")["hash"]).hex())


def test_sync_is_idempotent_and_a_restart_resumes_from_the_cursor(deployment, engine, indexer) -> None:
    _register(deployment, FARM, "Green Farm", ["PRODUCER"], [Account.create().address])
    assert indexer.sync() == 7
    before = dump(engine)
    assert indexer.sync() == 0
    assert dump(engine) == before

    restarted = RegistryIndexer(engine, deployment.chain, deployment.registry, start_block=0)
    assert restarted.sync() == 0
    assert dump(engine) == before

    _do(deployment, "suspendParticipant", participant_id(FARM))
    again = RegistryIndexer(engine, deployment.chain, deployment.registry, start_block=0)
    assert again.sync() == 1
    after = dump(engine)
    assert len(after["registry_event"]) == len(before["registry_event"]) + 1
    assert_mirror_matches_chain(engine, deployment.chain, deployment.registry, {OPERATOR_GLN, FARM})


def test_a_crash_before_commit_leaves_nothing_half_applied(deployment, engine, indexer, monkeypatch) -> None:
    indexer.sync()
    _register(deployment, FARM, "Green Farm", ["PRODUCER"], [Account.create().address])
    before = dump(engine)
    import ledger.participants.indexer as module

    real = module._project
    calls = {"n": 0}

    def crash_on_third(session, event):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        real(session, event)

    monkeypatch.setattr(module, "_project", crash_on_third)
    with pytest.raises(RuntimeError):
        indexer.sync()
    assert dump(engine) == before  # mirror and cursor rolled back together
    monkeypatch.setattr(module, "_project", real)
    assert RegistryIndexer(engine, deployment.chain, deployment.registry).sync() == 3
    assert_mirror_matches_chain(engine, deployment.chain, deployment.registry, {OPERATOR_GLN, FARM})


def test_key_status_answers_as_the_registry_would(deployment, engine, indexer) -> None:
    good, revoked, suspended, stranger = (Account.create().address for _ in range(4))
    _register(deployment, FARM, "Green Farm", ["PRODUCER"], [good, revoked])
    _register(deployment, SHOP, "Corner Shop", ["RETAILER"], [suspended])
    _do(deployment, "revokeKey", revoked)
    _do(deployment, "suspendParticipant", participant_id(SHOP))
    indexer.sync()
    with Session(engine) as session:
        ok = key_status(session, good.lower())  # any case in, checksummed out
        assert ok.address == good and ok.registered and ok.active and ok.gln == FARM and ok.name == "Green Farm"
        assert ok.participant_id == "0x" + participant_id(FARM).hex()
        assert ok.roles == {"PRODUCER"} and ok.may_act_as("producer") and not ok.may_act_as("RETAILER")
        ok.require("PRODUCER")
        cases = [(stranger, "PRODUCER", "unknown_key"), (revoked, "PRODUCER", "key_revoked"),
                 (suspended, "RETAILER", "participant_suspended"), (good, "RETAILER", "role_missing")]
        for address, role, reason in cases:
            status = key_status(session, address)
            with pytest.raises(KeyNotAuthorisedError) as caught:
                status.require(role)
            assert caught.value.reason == reason and caught.value.http_status == 403
        assert not key_status(session, stranger).registered
        assert key_status(session, revoked).key_revoked and key_status(session, revoked).gln == FARM
        assert key_status(session, suspended).roles == {"RETAILER"} and not key_status(session, suspended).participant_active


# -- reorgs -----------------------------------------------------------------------------


def _snapshot(chain):  # type: ignore[no-untyped-def]
    if isinstance(chain, EmbeddedChain):
        return chain.tester.take_snapshot()
    return chain.w3.provider.make_request("evm_snapshot", [])["result"]


def _revert(chain, snapshot, admin) -> None:  # type: ignore[no-untyped-def]
    if isinstance(chain, EmbeddedChain):
        chain.tester.revert_to_snapshot(snapshot)
    else:
        assert chain.w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    chain._nonces.forget(admin.address)  # the dropped blocks took the admin's nonces with them


def _mine(chain, blocks: int) -> None:  # type: ignore[no-untyped-def]
    if isinstance(chain, EmbeddedChain):
        chain.tester.mine_blocks(blocks)
    else:
        chain.w3.provider.make_request("anvil_mine", [hex(blocks)])


@pytest.mark.parametrize("new_branch", ["shorter", "longer"])
def test_mirror_follows_a_reorg(deployment, engine, indexer, new_branch: str, caplog) -> None:
    chain = deployment.chain
    farm_key, mill_key, extra_key, depot_key = (Account.create().address for _ in range(4))
    _register(deployment, FARM, "Green Farm", ["PRODUCER"], [farm_key])
    indexer.sync()
    snapshot = _snapshot(chain)
    fork_height = chain.w3.eth.block_number

    # The branch the indexer sees, then loses.
    _register(deployment, MILL, "Old Mill", ["PROCESSOR"], [mill_key])
    _do(deployment, "addKey", participant_id(FARM), extra_key)
    _do(deployment, "suspendParticipant", participant_id(FARM))
    _do(deployment, "grantParticipantRole", participant_id(FARM), role_id("AUDITOR"))
    assert indexer.sync() == 6
    dropped_height = chain.w3.eth.block_number
    dropped_hashes = {"0x" + bytes(chain.w3.eth.get_block(n)["hash"]).hex() for n in range(fork_height + 1, dropped_height + 1)}

    _revert(chain, snapshot, deployment.admin)
    assert chain.w3.eth.block_number == fork_height
    # The branch that wins: other changes.
    _register(deployment, DEPOT, "Depot", ["DISTRIBUTOR"], [depot_key])
    _do(deployment, "grantParticipantRole", participant_id(FARM), role_id("RETAILER"))
    if new_branch == "longer":
        _mine(chain, 6)
        assert chain.w3.eth.block_number > dropped_height
    else:
        assert chain.w3.eth.block_number < dropped_height

    assert indexer.sync() == 4
    assert "chain reorganised" in caplog.text
    assert_mirror_matches_chain(engine, chain, deployment.registry, {OPERATOR_GLN, FARM, DEPOT})
    with Session(engine) as session:
        farm = participant_by_gln(session, FARM)
        assert farm is not None and farm.status == "active" and farm.roles == ("PRODUCER", "RETAILER")
        assert [k.address for k in farm.keys] == [farm_key]
        assert not key_status(session, mill_key).registered and not key_status(session, extra_key).registered
        hashes = set(session.exec(select(RegistryEvent.block_hash)).all())
        assert not hashes & dropped_hashes
        assert not session.exec(select(RegistryEvent).where(RegistryEvent.gln == MILL)).all()
    # Settled: nothing more to do, and a restart agrees.
    before = dump(engine)
    assert RegistryIndexer(engine, chain, deployment.registry).sync() == 0
    assert dump(engine) == before


def test_a_reorg_below_every_event_rebuilds_from_the_start(deployment, engine) -> None:
    chain = deployment.chain
    snapshot = _snapshot(chain)
    start = chain.w3.eth.block_number + 1
    indexer = RegistryIndexer(engine, chain, deployment.registry, start_block=start)
    _register(deployment, FARM, "Green Farm", ["PRODUCER"], [Account.create().address])
    assert indexer.sync() == 3
    _revert(chain, snapshot, deployment.admin)
    _register(deployment, SHOP, "Corner Shop", ["RETAILER"], [])
    assert indexer.sync() == 2
    with Session(engine) as session:
        assert participant_by_gln(session, FARM) is None
        assert participant_by_gln(session, SHOP) is not None
        assert {e.gln for e in registry_history(session)} == {SHOP}


# -- background loop ---------------------------------------------------------------------


def test_run_loop_keeps_the_mirror_current(deployment, engine, indexer) -> None:
    key = Account.create().address
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), kwargs={"interval": 0.05}, daemon=True)
    thread.start()
    try:
        _register(deployment, FARM, "Green Farm", ["PRODUCER"], [key])
        deadline = time.monotonic() + 20
        while True:
            with Session(engine) as session:
                if key_status(session, key).registered:
                    break
            assert time.monotonic() < deadline, "the background indexer did not pick up the registration"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_run_loop_survives_failures(deployment, engine, caplog) -> None:
    indexer = RegistryIndexer(engine, deployment.chain, deployment.registry)
    calls = {"n": 0}
    real_sync = indexer.sync

    def flaky() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("node hiccup")
        return real_sync()

    indexer.sync = flaky  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), kwargs={"interval": 0.01}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while indexer.cursor() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert indexer.cursor() is not None
    assert "node hiccup" in caplog.text


def test_cursor_rows_are_per_contract(deployment, engine, indexer) -> None:
    indexer.sync()
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM chain_cursor")).scalars().all()
    assert names == [f"registry:{deployment.registry.address}"]
