"""Where the anchorer draws the line between a reorganisation and a reset chain
(issue 8, item 2): checkpoints the chain no longer holds are re-anchored if
they are recent, and kept, with anchoring stopped, if they are old.

A "chain" without the index's checkpoints is made by pointing the anchorer
at a second, fresh anchor contract, as a reset chain would look.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from ledger.anchor.errors import CheckpointsLostError
from ledger.anchor.models import Checkpoint
from ledger.anchor.service import REORG_WINDOW, Anchorer
from ledger.chain.deploy import deploy_contracts
from ledger.index.db import open_index
from ledger.records.append import NewRecord, append_records

pytestmark = pytest.mark.reliability


@pytest.fixture
def engine(tmp_path):
    engine = open_index(f"sqlite:///{tmp_path / 'index.sqlite'}")
    yield engine
    engine.dispose()


def anchorer_on_a_fresh_contract(deployment, engine) -> Anchorer:
    contracts = deploy_contracts(deployment.chain, deployment.admin)
    return Anchorer(engine=engine, chain=deployment.chain, sender=deployment.admin,
                    anchor=deployment.chain.contract("CheckpointAnchor", contracts["CheckpointAnchor"]))


def age_rows(engine, by: timedelta) -> None:
    table = Checkpoint.__table__
    with Session(engine) as session, session.begin():
        for row in session.exec(select(Checkpoint)):
            session.execute(sa.update(table).where(table.c.tree_size == row.tree_size).values(anchored_at=row.anchored_at - by))


def sizes(engine) -> list[int]:
    with Session(engine) as session:
        return [row.tree_size for row in session.exec(select(Checkpoint).order_by(Checkpoint.tree_size))]


def test_recent_checkpoints_the_chain_lost_are_anchored_again(deployment, engine) -> None:
    append_records(engine, [NewRecord("test.note", {"n": n}) for n in range(7)])
    Anchorer(engine=engine, chain=deployment.chain, anchor=deployment.anchor, sender=deployment.admin).anchor_once(force=True)
    append_records(engine, [NewRecord("test.note", {"n": n}) for n in range(7, 10)])
    elsewhere = anchorer_on_a_fresh_contract(deployment, engine)
    assert elsewhere.anchor_once(force=True).tree_size == 10, "the lost checkpoint's records are anchored again"
    assert sizes(engine) == [10], "the row of the checkpoint the chain lost is gone"
    assert elsewhere.chain_latest().tree_size == 10


def test_old_checkpoints_the_chain_lost_stop_anchoring_and_stay(deployment, engine) -> None:
    append_records(engine, [NewRecord("test.note", {"n": n}) for n in range(7)])
    Anchorer(engine=engine, chain=deployment.chain, anchor=deployment.anchor, sender=deployment.admin).anchor_once(force=True)
    age_rows(engine, REORG_WINDOW + timedelta(minutes=5))
    elsewhere = anchorer_on_a_fresh_contract(deployment, engine)
    with pytest.raises(CheckpointsLostError, match=r"size \[7\].*reset or replaced"):
        elsewhere.anchor_once(force=True)
    assert sizes(engine) == [7], "the evidence of the earlier anchoring is kept"
    assert elsewhere.chain_latest().tree_size == 0
