"""The anchorer: when it anchors, that a crash never doubles or skips a
checkpoint, that a chain outage only delays it, and that one process anchors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ledger.anchor.lease import AnchorLease
from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.anchor.service import Anchorer, AnchorPolicy
from ledger.errors import ChainError
from ledger.index.db import create_index_engine, open_index
from ledger.records.append import NewRecord, append_records


def add(engine, n: int, start: int = 0) -> None:
    append_records(engine, [NewRecord("test.note", {"n": start + i}) for i in range(n)])


@pytest.fixture
def engine(index_url):
    engine = open_index(index_url)
    yield engine
    engine.dispose()


@pytest.fixture
def anchorer(engine, deployment) -> Anchorer:
    return Anchorer(engine=engine, chain=deployment.chain, anchor=deployment.anchor, sender=deployment.admin,
                    policy=AnchorPolicy(max_leaves=100, max_delay=0.3))


def rows(engine) -> list[Checkpoint]:
    with Session(engine) as session:
        return list(session.exec(select(Checkpoint).order_by(Checkpoint.tree_size)))


def test_anchors_after_enough_leaves_or_enough_time(anchorer, engine) -> None:
    add(engine, 5)
    assert anchorer.anchor_once() is None, "5 fresh leaves: neither bound reached"
    add(engine, 95, start=5)
    first = anchorer.anchor_once()
    assert first is not None and first.tree_size == 100, "100 leaves reach max_leaves"
    add(engine, 3, start=100)
    assert anchorer.anchor_once() is None
    time.sleep(0.35)
    second = anchorer.anchor_once()
    assert second is not None and second.tree_size == 103, "the oldest waiting leaf reached max_delay"
    assert anchorer.chain_latest().tree_size == 103
    [a, b] = rows(engine)
    assert (a.status, b.status) == (CheckpointStatus.ANCHORED, CheckpointStatus.ANCHORED)
    assert b.previous_size == 100 and b.tx_hash and b.block_hash and b.block_number


def test_crash_before_sending_is_reanchored_once(anchorer, engine, deployment) -> None:
    add(engine, 10)
    with Session(engine) as session, session.begin():  # the row a crashed anchorer left
        session.add(Checkpoint(tree_size=10, root_hash=b"\1" * 32, previous_size=0, chain_id=deployment.chain.chain_id,
                               contract_address=deployment.anchor.address))
    assert anchorer.reconcile() == 1
    assert rows(engine) == []
    assert anchorer.anchor_once(force=True).tree_size == 10
    assert anchorer.anchor_once(force=True) is None, "nothing new: never anchored twice"
    assert deployment.chain.call(deployment.anchor.functions.checkpointCount()) == 1


def test_crash_after_sending_is_recorded_not_resent(anchorer, engine, deployment) -> None:
    from ledger.log.sqlstore import SqlNodeStore
    from ledger.log.tree import MerkleLog

    add(engine, 12)
    with Session(engine) as session:
        root = MerkleLog(SqlNodeStore(session)).root(12)
    with Session(engine) as session, session.begin():
        session.add(Checkpoint(tree_size=12, root_hash=root, previous_size=0, chain_id=deployment.chain.chain_id,
                               contract_address=deployment.anchor.address))
    receipt = deployment.chain.transact(deployment.anchor.functions.anchor(12, root, []), sender=deployment.admin)
    # ...and the process died before marking the row anchored.
    assert anchorer.reconcile() == 1
    [row] = rows(engine)
    assert row.status == CheckpointStatus.ANCHORED
    assert row.tx_hash == "0x" + bytes(receipt["transactionHash"]).hex()
    assert anchorer.anchor_once(force=True) is None
    assert deployment.chain.call(deployment.anchor.functions.checkpointCount()) == 1


@pytest.mark.anvil
def test_chain_outage_delays_anchoring_and_capture_goes_on(tmp_path: Path) -> None:
    from eth_account import Account

    from ledger.chain.deploy import deploy_contracts
    from ledger.chain.rpc import RpcChain
    from tests.support import AnvilProcess, anvil_binary, fund

    node = AnvilProcess(anvil_binary(), "--state", str(tmp_path / "anvil-state.json"))
    node.start()
    engine = open_index(f"sqlite:///{tmp_path / 'index.sqlite'}")
    try:
        chain = RpcChain(node.url, request_timeout=2, receipt_timeout=5)
        admin = Account.create()
        fund(chain, admin.address)
        anchor = chain.contract("CheckpointAnchor", deploy_contracts(chain, admin)["CheckpointAnchor"])
        anchorer = Anchorer(engine=engine, chain=chain, anchor=anchor, sender=admin)
        add(engine, 4)
        assert anchorer.anchor_once(force=True).tree_size == 4
        node.stop()
        add(engine, 6, start=4)  # capture does not need the chain
        with pytest.raises(ChainError, match="unreachable"):
            anchorer.anchor_once(force=True)
        node.start()
        anchorer.reconcile()
        assert anchorer.anchor_once(force=True).tree_size == 10
        assert [(r.tree_size, r.status) for r in rows(engine)] == [(4, "anchored"), (10, "anchored")]
        assert chain.call(anchor.functions.checkpointCount()) == 2
    finally:
        node.stop()
        engine.dispose()


HOLD_LEASE = textwrap.dedent("""
    import sys, time
    from ledger.anchor.lease import AnchorLease
    from ledger.index.db import create_index_engine
    lease = AnchorLease(create_index_engine(sys.argv[1]))
    print("held" if lease.acquire() else "refused", flush=True)
    time.sleep(60)
""")


def test_one_anchorer_at_a_time_across_processes(index_url) -> None:
    open_index(index_url).dispose()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LEASE, index_url], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        from ledger.index.db import create_index_engine

        lease = AnchorLease(create_index_engine(index_url))
        assert not lease.acquire(), "a second process must not anchor while the first holds the lease"
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 10
        while not lease.acquire():
            assert time.monotonic() < deadline, "the lease was not freed when its holder died"
            time.sleep(0.1)
        lease.release()
    finally:
        holder.kill()


@pytest.mark.postgres
def test_a_lease_whose_connection_died_is_not_held_any_more(postgres_url: str) -> None:
    """A database restart or a killed backend frees the lock: the old holder must notice, not anchor on."""
    first, second = create_index_engine(postgres_url), create_index_engine(postgres_url)
    a, b = AnchorLease(first), AnchorLease(second)
    try:
        assert a.acquire() and not b.acquire()
        with second.connect() as admin:
            pid = a._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            a._conn.commit()
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # pg_terminate_backend only signals the backend; its locks go when it has exited.
        deadline = time.monotonic() + 10
        while not b.acquire():
            assert time.monotonic() < deadline, "the lock died with its connection: the other replica takes it"
            time.sleep(0.05)
        assert not a.acquire() and not a.held
        b.release()
        assert a.acquire()
    finally:
        a.release()
        b.release()
        first.dispose()
        second.dispose()
