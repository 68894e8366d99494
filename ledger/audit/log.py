"""The log audit: prove from scratch that the records, the tree and the checkpoints were not rewritten.

The auditor trusts nothing the index computed. It re-reads every record,
recomputes its leaf, rebuilds the whole tree in memory, and compares:

1. each recomputed leaf with the stored leaf (an edited record or leaf);
2. record and leaf indices with 0..n-1 (a deleted, inserted or moved row);
3. every stored interior node with the rebuilt one (a forged node would let
   the API serve proofs for a tree that does not exist);
4. every checkpoint anchored on chain with the rebuilt root at its size, and
   consecutive checkpoints with a consistency proof from the rebuilt tree;
5. every checkpoint row of the index with the chain's record of it.

Each discrepancy names the record, leaf, node or checkpoint concerned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from web3.contract import Contract

from ledger.anchor.models import Checkpoint, CheckpointStatus
from ledger.audit.report import AuditReport, Discrepancy, Progress
from ledger.audit.rows import snapshot
from ledger.chain.base import Chain
from ledger.errors import LogError
from ledger.log.models import LogLeaf, LogNode
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.log.verify import verify_consistency
from ledger.records.encoding import record_leaf_hash
from ledger.records.models import Record

BATCH = 20_000


# Stands in for a leaf whose record and leaf were both deleted, so the rebuild
# can go on and report everything else; no real leaf hash equals it.
MISSING_LEAF = bytes(32)


def _merge_by_index(record_rows: Iterator[tuple], leaf_rows: Iterator[tuple]) -> Iterator[tuple[int, tuple[str, str] | None, bytes | None]]:
    """Walk two index-ordered streams together: (index, (kind, body) or None, leaf or None)."""
    record = next(record_rows, None)
    leaf = next(leaf_rows, None)
    while record is not None or leaf is not None:
        r_index = record[0] if record is not None else None
        l_index = leaf[0] if leaf is not None else None
        index = min(i for i in (r_index, l_index) if i is not None)
        yield (
            index,
            (record[1], record[2]) if r_index == index else None,
            bytes(leaf[1]) if l_index == index else None,
        )
        if r_index == index:
            record = next(record_rows, None)
        if l_index == index:
            leaf = next(leaf_rows, None)


def _ordered(conn: Connection, query: sa.Select) -> Iterator[tuple]:
    yield from conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)


def audit_log(engine: Engine, chain: Chain, anchor: Contract, *, progress: Progress | None = None) -> AuditReport:
    """Audit the index behind ``engine`` against the anchor contract on ``chain``.

    The index is read as one snapshot; checkpoints anchored after it was
    taken may cover records it does not hold, so their count is read first.
    """
    started = time.perf_counter()
    report = AuditReport()
    anchored_before = chain.call(anchor.functions.checkpointCount())
    with snapshot(engine) as conn:
        rebuilt = _audit_records(conn, report, progress)
        size = rebuilt.size()
        _audit_nodes(conn, rebuilt, size, report.discrepancies.append)
        _audit_checkpoints(conn, chain, anchor, rebuilt, size, report, settled=anchored_before)
    report.seconds = time.perf_counter() - started
    return report


def _audit_records(conn: Connection, report: AuditReport, progress: Progress | None) -> MerkleLog:
    """Re-hash every record, compare it with its leaf; returns the tree the records give."""
    found = report.discrepancies.append
    records = Record.__table__
    leaves = LogLeaf.__table__
    rebuilt = MerkleLog(MemoryNodeStore())
    record_rows = _ordered(conn, sa.select(records.c.index, records.c.kind, records.c.body).order_by(records.c.index))
    leaf_rows = _ordered(conn, sa.select(leaves.c.index, leaves.c.leaf_hash).order_by(leaves.c.index))
    pending: list[bytes] = []
    expected_index = 0
    for index, record, stored in _merge_by_index(record_rows, leaf_rows):
        while expected_index < index:
            found(Discrepancy(f"record {expected_index}", "missing, and its leaf too (rows deleted)"))
            pending.append(MISSING_LEAF)
            expected_index += 1
        if record is None:
            found(Discrepancy(f"record {index}", "missing: the log has its leaf but the record is gone (row deleted)"))
            leaf = stored
        else:
            leaf = record_leaf_hash(*record)
            if stored is None:
                found(Discrepancy(f"record {index}", "has no leaf in the log (leaf deleted, or record inserted)"))
            elif stored != leaf:
                found(Discrepancy(
                    f"record {index}",
                    f"its content hashes to leaf {leaf.hex()[:16]}…, but the log holds {stored.hex()[:16]}… (record or leaf edited)",
                ))
        pending.append(leaf)
        expected_index += 1
        if len(pending) >= BATCH:
            rebuilt.append_many(pending)
            pending.clear()
            if progress:
                progress(expected_index)
    if pending:
        rebuilt.append_many(pending)
    if progress:
        progress(expected_index)
    report.records = expected_index
    return rebuilt


MISSING_NODES_NAMED = 20
"""Deleted nodes named one by one before the audit only counts the rest."""


def _audit_nodes(conn: Connection, rebuilt: MerkleLog, size: int, found: Callable[[Discrepancy], None]) -> None:
    nodes = LogNode.__table__
    expected_count = sum(size >> level for level in range(1, size.bit_length()))
    seen = 0
    batch: list[tuple[int, int, bytes]] = []

    def flush() -> None:
        valid = [(lvl, idx, h) for lvl, idx, h in batch if lvl >= 1 and idx < (size >> lvl)]
        for lvl, idx, _ in set(batch) - set(valid):
            found(Discrepancy(f"node ({lvl}, {idx})", f"does not exist in a tree of {size} leaves (inserted row)"))
        truth = rebuilt.store.get_nodes([(lvl, idx) for lvl, idx, _ in valid])
        for (lvl, idx, stored), real in zip(valid, truth):
            if bytes(stored) != real:
                found(Discrepancy(f"node ({lvl}, {idx})", "differs from the tree the records give (node edited)"))
        batch.clear()

    # Rows come in (level, index) order, so a gap in that order is a deleted node: name the first few.
    expected = ((lvl, idx) for lvl in range(1, size.bit_length()) for idx in range(size >> lvl))
    next_expected = next(expected, None)
    named = 0

    def missing_until(node: tuple[int, int] | None) -> None:
        nonlocal next_expected, named
        while next_expected is not None and (node is None or next_expected < node):
            if named < MISSING_NODES_NAMED:
                found(Discrepancy(f"node {next_expected}", "missing from the log (deleted row)"))
                named += 1
            next_expected = next(expected, None)
        if node is not None and next_expected == node:
            next_expected = next(expected, None)

    for lvl, idx, stored in _ordered(conn, sa.select(nodes.c.level, nodes.c.index, nodes.c.hash).order_by(nodes.c.level, nodes.c.index)):
        seen += 1
        missing_until((lvl, idx))
        batch.append((lvl, idx, bytes(stored)))
        if len(batch) == BATCH:
            flush()
    flush()
    missing_until(None)
    if seen < expected_count and named == MISSING_NODES_NAMED:
        found(Discrepancy("log nodes", f"{expected_count - seen} of {expected_count} interior nodes are missing (deleted rows); the first {named} are named above"))


def _audit_checkpoints(
    conn: Connection, chain: Chain, anchor: Contract, rebuilt: MerkleLog, size: int, report: AuditReport, *, settled: int
) -> None:
    """Compare the chain's checkpoints with the rebuilt tree, and the index's checkpoint rows with the chain.

    Checkpoints from sequence ``settled`` on were anchored after the snapshot
    was taken: one larger than the snapshot is not a sign of deleted records.
    """
    found = report.discrepancies.append
    count = chain.call(anchor.functions.checkpointCount())
    report.checkpoints_on_chain = count
    on_chain: dict[int, bytes] = {}
    previous: tuple[int, bytes] | None = None
    for sequence in range(count):
        cp = chain.call(anchor.functions.checkpointAt(sequence))
        cp_size, cp_root = cp[0], bytes(cp[1])
        on_chain[cp_size] = cp_root
        subject = f"checkpoint {cp_size}"
        if cp_size > size:
            if sequence < settled:
                found(Discrepancy(subject, f"anchored on chain, but the index holds only {size} records (records deleted)"))
            continue
        rebuilt_root = rebuilt.root(cp_size)
        if rebuilt_root != cp_root:
            found(Discrepancy(subject, f"anchored root {cp_root.hex()} but the records give {rebuilt_root.hex()} (history rewritten)"))
        elif previous is not None:
            try:
                verify_consistency(previous[0], cp_size, rebuilt.consistency_proof(previous[0], cp_size), previous[1], cp_root)
            except LogError as exc:
                found(Discrepancy(subject, f"not consistent with checkpoint {previous[0]}: {exc}"))
        previous = (cp_size, cp_root)
        report.anchored_size = cp_size

    cp_table = Checkpoint.__table__
    rows = conn.execute(sa.select(cp_table.c.tree_size, cp_table.c.root_hash, cp_table.c.status).order_by(cp_table.c.tree_size)).all()
    for tree_size, root_hash, status in rows:
        subject = f"checkpoint {tree_size}"
        if status != CheckpointStatus.ANCHORED:
            continue
        if tree_size not in on_chain:
            found(Discrepancy(subject, "the index says anchored, but the chain has no such checkpoint"))
        elif bytes(root_hash) != on_chain[tree_size]:
            found(Discrepancy(subject, f"the index row's root {bytes(root_hash).hex()} differs from the chain's {on_chain[tree_size].hex()} (row edited)"))
