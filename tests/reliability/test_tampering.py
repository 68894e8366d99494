"""Tampering (issue 8, item 3): 200 random direct edits of the index database,
one at a time on a fresh copy, and `audit` names each one.

The index holds signed captures (capture records with their signatures,
event records), the Merkle log's leaves and nodes, and four anchored
checkpoints. The edits go straight to the SQLite file, as someone with the
database in hand would make them (foreign keys not enforced): an event's
field, a capture's signature, a leaf, a node, a checkpoint row; deleted
records, leaves and nodes; inserted records, leaves, nodes and checkpoint
rows; reordered records and leaves; the tables derived from the log (an
event's query-index row, an identifier row, a current state, a provenance
edge); and the participants mirror (a participant's roles or status, a key,
a registry event). The audit runs in-process against the embedded chain.

That the scanner refuses a tampered API answer is tested with the scanner
(tests/scanner). The seed is printed; TRACELEDGER_TAMPER_SEED replays a run.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ledger.anchor.service import Anchorer
from ledger.audit import audit_index
from ledger.capture.service import CAPTURE_KIND, EVENT_KIND, Submission, capture
from ledger.capture.signing import SigningDomain
from ledger.client import epcis_document, sign_document
from ledger.epcis.build import gln, item, lot, object_event, place, timestamp
from ledger.index.db import create_index_engine
from ledger.records.encoding import canonical_json
from ledger.runtime import open_ledger
from tests.reliability.evidence import record_figures
from tests.reliability.site_setup import FARM_GLN, PRODUCT, make_site

pytestmark = pytest.mark.reliability

EDITS = 200
DOCUMENTS = 12  # of 20 events each; a checkpoint after every third, so the last three are not anchored


@dataclass(frozen=True)
class Pristine:
    """A consistent single-file copy of the index, and the data dir whose chain anchors it."""

    database: Path
    settings: object


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    tmp = tmp_path_factory.mktemp("tampering")
    site = make_site(tmp)
    with open_ledger(site.settings) as ledger:
        domain = SigningDomain(ledger.chain.chain_id, ledger.manifest.contracts["ParticipantRegistry"])
        anchorer = Anchorer(engine=ledger.engine, chain=ledger.chain, anchor=ledger.contract("CheckpointAnchor"),
                            sender=ledger.service_account)
        when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        for number in range(DOCUMENTS):
            events = [
                object_event(epcs=[item(PRODUCT, f"T{number}.{i}")], action="ADD", biz_step="commissioning",
                             disposition="active", location=FARM_GLN, when=when + timedelta(minutes=number * 20 + i))
                if i % 2 else
                object_event(quantities=[(lot(PRODUCT, f"LOT{number}.{i}"), 100 + i, "KGM")], action="ADD",
                             biz_step="commissioning", location=FARM_GLN, when=when + timedelta(minutes=number * 20 + i))
                for i in range(20)
            ]
            signed = sign_document(epcis_document(events), site.producer, domain)
            capture(engine=ledger.engine, domain=domain, submission=Submission(
                document=signed.document, signer=site.producer.address, nonce=int(signed.headers["TL-Nonce"]),
                signature=signed.headers["TL-Signature"]))
            if number % 3 == 2 and number < DOCUMENTS - 3:
                anchorer.anchor_once(force=True)
        report = audit_index(ledger)
        assert report.ok and report.checkpoints_on_chain == 3, "the untouched index must audit clean"
    database = tmp / "pristine.sqlite"
    with sqlite3.connect(site.settings.data_dir / "index.sqlite") as source, sqlite3.connect(database) as copy:
        source.backup(copy)  # one file, the WAL folded in
    return Pristine(database, site.settings)


# -- the edits: each changes the database and returns the subjects audit must name -----------


Tamper = Callable[[sqlite3.Connection, random.Random], set[str]]


def _count(db: sqlite3.Connection, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _records_of(db: sqlite3.Connection, kind: str) -> list[tuple[int, str]]:
    return db.execute('SELECT "index", body FROM record WHERE kind = ? ORDER BY "index"', (kind,)).fetchall()


def _pick(db: sqlite3.Connection, query: str, rng: random.Random) -> tuple:
    """One row of ``query``, chosen by ``rng`` (not SQLite's random(): the seed must replay a run)."""
    return rng.choice(db.execute(query + " ORDER BY 1, 2").fetchall())


def _flip_bit(value: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(value) * 8)
    changed = bytearray(value)
    changed[position // 8] ^= 1 << (position % 8)
    return bytes(changed)


def _set_record_body(db: sqlite3.Connection, index: int, body: dict) -> None:
    db.execute('UPDATE record SET body = ? WHERE "index" = ?', (canonical_json(body), index))


def edit_event_field(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index, body = rng.choice(_records_of(db, EVENT_KIND))
    record = orjson.loads(body)
    event = record["event"]
    forgeries = {
        "eventTime": lambda: timestamp(datetime.fromisoformat(event["eventTime"]) + timedelta(seconds=rng.randint(1, 10**6))),
        "bizStep": lambda: rng.choice(["shipping", "receiving", "destroying", "dispensing"]),
        "action": lambda: rng.choice(["OBSERVE", "DELETE"]),
        "bizLocation": lambda: place(gln(f"95210000{rng.randint(1000, 9999)}")),
        "epcList": lambda: [item(PRODUCT, f"FORGED{rng.randint(0, 10**6)}")],
        "quantityList": lambda: [{**q, "quantity": q["quantity"] + rng.randint(1, 500)} for q in event.get("quantityList", [])],
    }
    field = rng.choice([name for name in forgeries if event.get(name)])
    event[field] = forgeries[field]()
    _set_record_body(db, index, record)
    return {f"record {index}"}


def edit_signature(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index, body = rng.choice(_records_of(db, CAPTURE_KIND))
    record = orjson.loads(body)
    signature = record["signature"]
    position = rng.randrange(2, len(signature))
    record["signature"] = signature[:position] + rng.choice([c for c in "0123456789abcdef" if c != signature[position]]) + signature[position + 1:]
    _set_record_body(db, index, record)
    return {f"record {index}"}


def edit_leaf(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index, leaf = _pick(db, 'SELECT "index", leaf_hash FROM log_leaf', rng)
    db.execute('UPDATE log_leaf SET leaf_hash = ? WHERE "index" = ?', (_flip_bit(leaf, rng), index))
    return {f"record {index}"}


def edit_node(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    level, index, node = _pick(db, 'SELECT level, "index", hash FROM log_node', rng)
    db.execute('UPDATE log_node SET hash = ? WHERE level = ? AND "index" = ?', (_flip_bit(node, rng), level, index))
    return {f"node ({level}, {index})"}


def edit_checkpoint_root(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    size, root = _pick(db, "SELECT tree_size, root_hash FROM checkpoint", rng)
    db.execute("UPDATE checkpoint SET root_hash = ? WHERE tree_size = ?", (_flip_bit(root, rng), size))
    return {f"checkpoint {size}"}


def edit_checkpoint_size(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    sizes = {row[0] for row in db.execute("SELECT tree_size FROM checkpoint")}
    size = rng.choice(sorted(sizes))
    forged = rng.choice([s for s in range(1, _count(db, "record") + 1) if s not in sizes])
    db.execute("UPDATE checkpoint SET tree_size = ? WHERE tree_size = ?", (forged, size))
    return {f"checkpoint {forged}"}


def delete_record(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index = rng.randrange(_count(db, "record"))
    db.execute('DELETE FROM record WHERE "index" = ?', (index,))
    return {f"record {index}"}


def delete_leaf(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index = rng.randrange(_count(db, "log_leaf"))
    db.execute('DELETE FROM log_leaf WHERE "index" = ?', (index,))
    return {f"record {index}"}


def delete_node(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    level, index = _pick(db, 'SELECT level, "index" FROM log_node', rng)
    db.execute('DELETE FROM log_node WHERE level = ? AND "index" = ?', (level, index))
    return {f"node ({level}, {index})"}


def insert_record(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    """A forged event appended after the last record: a copy of a real one with another item."""
    index = _count(db, "record")
    _, body = rng.choice(_records_of(db, EVENT_KIND))
    record = orjson.loads(body)
    record["event"]["epcList"] = [item(PRODUCT, f"FORGED{index}")]
    db.execute('INSERT INTO record ("index", kind, body, created_at) VALUES (?, ?, ?, ?)',
               (index, EVENT_KIND, canonical_json(record), "2026-03-01 09:00:00"))
    return {f"record {index}"}


def insert_leaf(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index = _count(db, "log_leaf")
    db.execute('INSERT INTO log_leaf ("index", leaf_hash, created_at) VALUES (?, ?, ?)',
               (index, rng.randbytes(32), "2026-03-01 09:00:00"))
    return {f"record {index}"}


def insert_node(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    size = _count(db, "log_leaf")
    level = rng.randint(1, size.bit_length())
    index = (size >> level) + rng.randint(0, 3)  # a subtree the tree of this size does not have
    db.execute('INSERT INTO log_node (level, "index", hash) VALUES (?, ?, ?)', (level, index, rng.randbytes(32)))
    return {f"node ({level}, {index})"}


def insert_checkpoint(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    sizes = {row[0] for row in db.execute("SELECT tree_size FROM checkpoint")}
    forged = rng.choice([s for s in range(1, _count(db, "record") + 1) if s not in sizes])
    template = db.execute("SELECT previous_size, chain_id, contract_address FROM checkpoint LIMIT 1").fetchone()
    db.execute(
        "INSERT INTO checkpoint (tree_size, root_hash, previous_size, status, chain_id, contract_address, sequence, "
        "tx_hash, block_number, block_hash, created_at, anchored_at) VALUES (?, ?, ?, 'anchored', ?, ?, ?, ?, ?, ?, ?, ?)",
        (forged, rng.randbytes(32), *template, len(sizes), "0x" + rng.randbytes(32).hex(), 99,
         "0x" + rng.randbytes(32).hex(), "2026-03-01 09:00:00", "2026-03-01 09:00:00"))
    return {f"checkpoint {forged}"}


def reorder_records(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    a, b = rng.sample(range(_count(db, "record")), 2)
    (kind_a, body_a), (kind_b, body_b) = (db.execute('SELECT kind, body FROM record WHERE "index" = ?', (i,)).fetchone() for i in (a, b))
    db.execute('UPDATE record SET kind = ?, body = ? WHERE "index" = ?', (kind_b, body_b, a))
    db.execute('UPDATE record SET kind = ?, body = ? WHERE "index" = ?', (kind_a, body_a, b))
    return {f"record {a}", f"record {b}"}


def reorder_leaves(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    a, b = rng.sample(range(_count(db, "log_leaf")), 2)
    leaf_a, leaf_b = (db.execute('SELECT leaf_hash FROM log_leaf WHERE "index" = ?', (i,)).fetchone()[0] for i in (a, b))
    db.execute('UPDATE log_leaf SET leaf_hash = ? WHERE "index" = ?', (leaf_b, a))
    db.execute('UPDATE log_leaf SET leaf_hash = ? WHERE "index" = ?', (leaf_a, b))
    return {f"record {a}", f"record {b}"}


def edit_event_index_row(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    hash_id, index = _pick(db, "SELECT hash_id, record_index FROM epcis_event", rng)
    column, value = rng.choice([("biz_step", "https://ref.gs1.org/cbv/BizStep-destroying"), ("disposition", "https://ref.gs1.org/cbv/Disp-recalled"),
                                ("biz_location", f"https://id.gs1.org/414/95210000{rng.randint(1000, 9999)}0"),
                                ("event_time", "2025-12-31 23:59:59.000000")])
    db.execute(f"UPDATE epcis_event SET {column} = ? WHERE hash_id = ?", (value, hash_id))
    return {f"epcis_event {hash_id}"}


def delete_identifier_row(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    index, epc, role = _pick(db, "SELECT record_index, epc, role FROM epcis_event_epc", rng)
    db.execute("DELETE FROM epcis_event_epc WHERE record_index = ? AND epc = ? AND role = ?", (index, epc, role))
    return {f"epcis_event_epc (record_index={index}, epc={epc}, role={role})"}


def edit_current_state(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    epc, _ = _pick(db, "SELECT epc, kind FROM trace_state", rng)
    column, value = rng.choice([("location", "https://id.gs1.org/414/9521000000999"), ("disposition", "https://ref.gs1.org/cbv/Disp-destroyed"),
                                ("last_index", 10**6)])
    db.execute(f"UPDATE trace_state SET {column} = ? WHERE epc = ?", (value, epc))
    return {f"trace_state {epc}"}


def insert_provenance_edge(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    (source,), (target,) = rng.sample(db.execute("SELECT epc FROM trace_state ORDER BY epc").fetchall(), 2)
    start = rng.randrange(_count(db, "record"))
    db.execute("INSERT INTO trace_edge (source, kind, target, start_index, start_time) VALUES (?, 'transformation', ?, ?, ?)",
               (source, target, start, "2026-03-01 09:00:00.000000"))
    return {f"trace_edge (source={source}, kind=transformation, target={target}, start_index={start})"}


def edit_participant(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    participant, roles = _pick(db, "SELECT id, roles FROM participant", rng)
    if rng.random() < 0.5:
        db.execute("UPDATE participant SET roles = ? WHERE id = ?", (roles ^ (1 << rng.randrange(10)), participant))
    else:
        db.execute("UPDATE participant SET status = 'suspended' WHERE id = ?", (participant,))
    return {f"participant {participant}"}


def delete_participant_key(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    address, _ = _pick(db, "SELECT address, participant_id FROM participant_key", rng)
    db.execute("DELETE FROM participant_key WHERE address = ?", (address,))
    return {f"participant_key {address}"}


def edit_registry_event(db: sqlite3.Connection, rng: random.Random) -> set[str]:
    block, log_index = _pick(db, "SELECT block_number, log_index FROM registry_event", rng)
    db.execute("UPDATE registry_event SET tx_hash = ? WHERE block_number = ? AND log_index = ?",
               ("0x" + rng.randbytes(32).hex(), block, log_index))
    return {f"registry_event (block_number={block}, log_index={log_index})"}


TAMPERS: dict[str, Tamper] = {
    "edit an event field": edit_event_field,
    "edit a capture signature": edit_signature,
    "edit a leaf": edit_leaf,
    "edit a node": edit_node,
    "edit a checkpoint root": edit_checkpoint_root,
    "edit a checkpoint size": edit_checkpoint_size,
    "delete a record": delete_record,
    "delete a leaf": delete_leaf,
    "delete a node": delete_node,
    "insert a record": insert_record,
    "insert a leaf": insert_leaf,
    "insert a node": insert_node,
    "insert a checkpoint row": insert_checkpoint,
    "reorder records": reorder_records,
    "reorder leaves": reorder_leaves,
    "edit an event's query-index row": edit_event_index_row,
    "delete an identifier row": delete_identifier_row,
    "edit a current state": edit_current_state,
    "insert a provenance edge": insert_provenance_edge,
    "edit a participant's roles or status": edit_participant,
    "delete a participant key": delete_participant_key,
    "edit a registry event": edit_registry_event,
}


def test_audit_names_every_one_of_200_random_edits(pristine: Pristine, tmp_path: Path) -> None:
    seed = int(os.environ.get("TRACELEDGER_TAMPER_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\ntampering seed {seed} (TRACELEDGER_TAMPER_SEED={seed} replays it)")
    rng = random.Random(seed)
    kinds = list(TAMPERS)
    plan = [kinds[n % len(kinds)] for n in range(EDITS)]  # every kind about equally often, targets at random
    rng.shuffle(plan)
    work = tmp_path / "tampered.sqlite"
    caught: Counter[str] = Counter()
    started = time.perf_counter()
    with open_ledger(pristine.settings, with_index=False) as ledger:  # type: ignore[arg-type]
        for number, kind in enumerate(plan):
            shutil.copyfile(pristine.database, work)
            with sqlite3.connect(work) as db:  # commits on leaving
                expected = TAMPERS[kind](db, rng)
            db.close()
            engine = create_index_engine(f"sqlite:///{work}")
            try:
                report = audit_index(ledger, engine=engine)
            finally:
                engine.dispose()
            named = {d.subject for d in report.discrepancies}
            assert not report.ok, f"seed {seed}, edit {number} ({kind}): audit found nothing"
            assert expected <= named, f"seed {seed}, edit {number} ({kind}): expected {sorted(expected)}, audit named {sorted(named)}"
            caught[kind] += 1
    seconds = time.perf_counter() - started
    record_figures("tampering", {
        "seed": seed,
        "edits": EDITS,
        "reported_and_named": sum(caught.values()),
        "kinds": len(caught),
        "per_kind": dict(sorted(caught.items())),
        "seconds": round(seconds, 1),
        "audits_per_second": round(EDITS / seconds, 1),
    })
    assert sum(caught.values()) == EDITS
