"""SqlNodeStore on SQLite (temporary file) and PostgreSQL: same roots and
proofs as MemoryNodeStore, and the caller keeps control of the transaction."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from ledger.log.errors import AppendConflictError, MissingNodeError, TreeSizeError
from ledger.log.hasher import hash_leaf
from ledger.log.models import LogLeaf, LogNode
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MemoryNodeStore, MerkleLog
from ledger.log.verify import verify_consistency, verify_inclusion

LEAF_COUNT = 203  # not a power of two, so right-border (ephemeral) nodes occur


def _leaf_hashes(count: int) -> list[bytes]:
    return [hash_leaf(b"record %d" % index) for index in range(count)]


def _random_batches(leaves: list[bytes], rng: random.Random) -> list[list[bytes]]:
    batches, position = [], 0
    while position < len(leaves):
        step = rng.choice([1, 1, 2, 3, 7, 16, 40])
        batches.append(leaves[position : position + step])
        position += step
    return batches


def _count(connection, table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_sql_store_gives_the_memory_store_roots_and_proofs(sql_engine: Engine) -> None:
    rng = random.Random(9162)
    leaves = _leaf_hashes(LEAF_COUNT)
    memory = MerkleLog(MemoryNodeStore())
    for batch in _random_batches(leaves, rng):
        memory.append_many(batch)
        with sql_engine.begin() as connection:  # one transaction per batch
            MerkleLog(SqlNodeStore(connection)).append_many(batch)

    with sql_engine.connect() as connection:
        log = MerkleLog(SqlNodeStore(connection))
        assert log.size() == LEAF_COUNT
        for size in range(LEAF_COUNT + 1):
            assert log.root(size) == memory.root(size), size
        for size in (1, 2, 3, 64, 100, 127, 128, 129, LEAF_COUNT):
            root = memory.root(size)
            for index in range(size):
                proof = log.inclusion_proof(index, size)
                assert proof == memory.inclusion_proof(index, size), (index, size)
                verify_inclusion(leaves[index], index, size, proof, root)
        for size1 in range(1, LEAF_COUNT + 1):
            proof = log.consistency_proof(size1, LEAF_COUNT)
            assert proof == memory.consistency_proof(size1, LEAF_COUNT), size1
            verify_consistency(size1, LEAF_COUNT, proof, memory.root(size1), memory.root())


def test_sql_rows_hold_leaves_once_and_only_perfect_inner_nodes(sql_engine: Engine) -> None:
    leaves = _leaf_hashes(LEAF_COUNT)
    with sql_engine.begin() as connection:
        MerkleLog(SqlNodeStore(connection)).append_many(leaves)
    with sql_engine.connect() as connection:
        leaf_rows = connection.execute(
            select(LogLeaf.__table__.c.index, LogLeaf.__table__.c.leaf_hash, LogLeaf.__table__.c.created_at).order_by(
                LogLeaf.__table__.c.index
            )
        ).all()
        assert [row.index for row in leaf_rows] == list(range(LEAF_COUNT))
        assert [row.leaf_hash for row in leaf_rows] == leaves
        assert all(row.created_at is not None for row in leaf_rows)
        levels = dict(
            connection.execute(
                select(LogNode.__table__.c.level, func.count()).group_by(LogNode.__table__.c.level)
            ).all()
        )
        expected = {level: LEAF_COUNT >> level for level in range(1, LEAF_COUNT.bit_length())}
        assert levels == expected


def test_store_leaves_the_transaction_to_the_caller(sql_engine: Engine) -> None:
    leaves = _leaf_hashes(10)
    with sql_engine.connect() as connection:
        with connection.begin() as transaction:
            MerkleLog(SqlNodeStore(connection)).append_many(leaves)
            assert SqlNodeStore(connection).size() == 10  # visible inside
            transaction.rollback()
        assert SqlNodeStore(connection).size() == 0
        assert _count(connection, LogNode.__table__) == 0

    with Session(sql_engine) as session:
        log = MerkleLog(SqlNodeStore(session))
        log.append_many(leaves[:4])
        log.append(leaves[4])
        session.commit()
    with Session(sql_engine) as session:
        log = MerkleLog(SqlNodeStore(session))
        assert log.size() == 5
        memory = MerkleLog(MemoryNodeStore())
        memory.append_many(leaves[:5])
        assert log.root() == memory.root()


def test_a_second_append_at_the_same_index_is_a_conflict(sql_engine: Engine) -> None:
    with sql_engine.connect() as connection:
        store = SqlNodeStore(connection)
        MerkleLog(store).append_many(_leaf_hashes(3))
        with pytest.raises(AppendConflictError, match="another writer"):
            # What a writer that read size 2 before the last append would do.
            store.put_nodes(2, [[hash_leaf(b"stale writer")]])
        connection.rollback()


def test_missing_nodes_are_reported(sql_engine: Engine) -> None:
    with sql_engine.begin() as connection:
        store = SqlNodeStore(connection)
        MerkleLog(store).append_many(_leaf_hashes(5))
        with pytest.raises(MissingNodeError, match=r"\(2, 1\)"):
            store.get_nodes([(0, 4), (2, 1)])
        with pytest.raises(MissingNodeError, match=r"\(0, 5\)"):
            store.get_nodes([(0, 5)])


def test_large_node_batches_are_read_in_chunks(sql_engine: Engine) -> None:
    leaves = _leaf_hashes(1500)
    memory = MemoryNodeStore()
    MerkleLog(memory).append_many(leaves)
    with sql_engine.begin() as connection:
        store = SqlNodeStore(connection)
        MerkleLog(store).append_many(leaves)
        ids = [(level, index) for level in range(11) for index in range(1500 >> level)]
        random.Random(1).shuffle(ids)
        assert len(ids) > 1000
        assert store.get_nodes(ids) == memory.get_nodes(ids)


def test_sizes_beyond_the_log_and_lost_nodes_are_told_apart(sql_engine: Engine) -> None:
    with sql_engine.connect() as connection:
        log = MerkleLog(SqlNodeStore(connection))
        log.append_many(_leaf_hashes(8))
        for ask in (
            lambda: log.root(9),
            lambda: log.inclusion_proof(3, 9),
            lambda: log.inclusion_proof(8, 9),  # every node but the leaf exists
            lambda: log.consistency_proof(5, 9),
            lambda: log.consistency_proof(9, 9),
        ):
            with pytest.raises(TreeSizeError):
                ask()

        # Within the log's size, a missing node is damage, not a bad request.
        connection.execute(delete(LogNode.__table__).where(LogNode.__table__.c.level == 2))
        with pytest.raises(MissingNodeError):
            log.inclusion_proof(0, 8)
        with pytest.raises(MissingNodeError):
            log.root(7)  # tiled by (2, 0), (1, 2) and leaf 6
        connection.rollback()
