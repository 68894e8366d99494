"""What the reliability tests check after the fact, and where their figures go.

Each test prints its figures (visible with ``pytest -s``) and keeps them in
``test-output/reliability/<name>.json`` (git-ignored) for the README.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from web3.contract import Contract

from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.capture.service import EVENT_KIND
from ledger.chain.base import Chain
from ledger.records.models import Record
from tests.support import REPO_ROOT

OUTPUT_DIR = REPO_ROOT / "test-output" / "reliability"


def record_figures(name: str, figures: Mapping[str, object]) -> None:
    print(f"\n[reliability] {name}: " + ", ".join(f"{key}={value}" for key, value in figures.items()))
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def stored_event_counts(engine: Engine) -> Counter[str]:
    """How many log records hold each event hash ID, read from the records'
    own bodies (not from the unique index that is supposed to prevent doubles)."""
    records = Record.__table__
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for (body,) in conn.execute(sa.select(records.c.body).where(records.c.kind == EVENT_KIND)):
            counts[orjson.loads(body)["eventHashID"]] += 1
    return counts


def checkpoint_trail(engine: Engine, chain: Chain, anchor: Contract) -> list[int]:
    """The chain's checkpoint sizes, once it is checked that the index's
    checkpoint rows are exactly those (size, root, sequence), none left
    pending, each pointing to a transaction mined in the block it names:
    no checkpoint skipped, none doubled, none the chain no longer holds."""
    count = chain.call(anchor.functions.checkpointCount())
    on_chain = [chain.call(anchor.functions.checkpointAt(sequence)) for sequence in range(count)]
    sizes = [cp[0] for cp in on_chain]
    assert sizes == sorted(set(sizes)), f"chain checkpoint sizes do not strictly grow: {sizes}"
    table = Checkpoint.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.tree_size)).mappings().all()
    assert [row["status"] for row in rows] == [CheckpointStatus.ANCHORED] * len(rows), "checkpoint rows left pending"
    assert [(row["tree_size"], bytes(row["root_hash"]), row["sequence"]) for row in rows] == [
        (cp[0], bytes(cp[1]), sequence) for sequence, cp in enumerate(on_chain)
    ], f"index checkpoints {[row['tree_size'] for row in rows]} differ from the chain's {sizes}"
    for row in rows:
        receipt = chain.w3.eth.get_transaction_receipt(row["tx_hash"])
        assert "0x" + bytes(receipt["blockHash"]).hex() == row["block_hash"], f"checkpoint {row['tree_size']}: stale block"
    return sizes
