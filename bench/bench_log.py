"""Benchmark ledger.log against pymerkle 7, both measured in this run.

    python bench/bench_log.py [--append-leaves 100000] [--proof-leaves 1000000]
                              [--proofs 10000] [--pymerkle-build-budget 300]

(a) Appending leaves, from raw records (hashing included on both sides), in
    one transaction / one bulk call: ours on a SQLite file (SqlNodeStore)
    vs pymerkle's SqliteTree.append_entries, and in memory (MemoryNodeStore)
    vs pymerkle's InmemoryTree.append_entries.
(b) Random inclusion proofs in a large tree, same indices for everyone,
    after an untimed warm-up (pymerkle fills its subroot cache, SQLite its
    page cache): ours vs pymerkle, in memory and on SQLite.

The trees are checked to have equal roots and a sample of proofs to be
identical (pymerkle's path minus its first entry, the leaf itself), so both
sides do the same job. If building pymerkle's tree to the full size would
exceed --pymerkle-build-budget seconds, pymerkle is compared at the largest
size built in time, and ours is timed at that size too.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pymerkle
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, create_engine
from sqlmodel import SQLModel

from ledger.log.hasher import hash_leaf
from ledger.log.models import LogLeaf, LogNode
from ledger.log.sqlstore import SqlNodeStore
from ledger.log.tree import MemoryNodeStore, MerkleLog

console = Console(width=150)
BUILD_CHUNK = 50_000
WARM_UP_PROOFS = 1_000
CROSS_CHECKED_PROOFS = 200

Row = tuple[str, float, float | None, str]
"""(task, our seconds, pymerkle's seconds or None if not measured, note)"""


def records(count: int) -> list[bytes]:
    return [b"record-%09d" % index for index in range(count)]


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine, tables=[LogLeaf.__table__, LogNode.__table__])
    return engine


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# (a) appends ---------------------------------------------------------------


def bench_appends(count: int, workdir: Path) -> list[Row]:
    entries = records(count)
    rows = []

    engine = sqlite_engine(workdir / "ours_append.db")

    def ours_sqlite() -> bytes:
        with engine.begin() as connection:
            log = MerkleLog(SqlNodeStore(connection))
            log.append_many([hash_leaf(entry) for entry in entries])
            return log.root()

    ours_seconds, ours_root = timed(ours_sqlite)
    engine.dispose()
    theirs_tree = pymerkle.SqliteTree(str(workdir / "pymerkle_append.db"))
    theirs_seconds, _ = timed(lambda: theirs_tree.append_entries(entries))
    if ours_root != theirs_tree.get_root():
        raise SystemExit("roots differ after appending on SQLite: the comparison would be meaningless")
    theirs_tree.close()
    rows.append((f"append {count:,} leaves, SQLite file", ours_seconds, theirs_seconds, "one transaction each"))

    def ours_memory() -> bytes:
        log = MerkleLog(MemoryNodeStore())
        log.append_many([hash_leaf(entry) for entry in entries])
        return log.root()

    ours_seconds, ours_root = timed(ours_memory)
    theirs_tree = pymerkle.InmemoryTree()
    theirs_seconds, _ = timed(lambda: theirs_tree.append_entries(entries))
    if ours_root != theirs_tree.get_root():
        raise SystemExit("roots differ after appending in memory: the comparison would be meaningless")
    rows.append((f"append {count:,} leaves, in memory", ours_seconds, theirs_seconds, ""))
    return rows


# (b) proofs ----------------------------------------------------------------


def build_ours(log: MerkleLog, entries: list[bytes], label: str, commit: Callable[[], None] | None = None) -> float:
    start = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(label, total=len(entries))
        for first in range(0, len(entries), BUILD_CHUNK):
            chunk = entries[first : first + BUILD_CHUNK]
            log.append_many([hash_leaf(entry) for entry in chunk])
            progress.advance(task, len(chunk))
        if commit:
            commit()
    return time.perf_counter() - start


def build_pymerkle(tree, entries: list[bytes], label: str, budget: float) -> tuple[float, int]:
    """Append in chunks until done or out of budget; return (seconds, size reached)."""
    start = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(label, total=len(entries))
        for first in range(0, len(entries), BUILD_CHUNK):
            chunk = entries[first : first + BUILD_CHUNK]
            tree.append_entries(chunk)
            progress.advance(task, len(chunk))
            elapsed = time.perf_counter() - start
            done = first + len(chunk)
            if done < len(entries) and elapsed / done * len(entries) > budget:
                console.print(
                    f"[yellow]{label}: the full {len(entries):,} leaves would take about "
                    f"{elapsed / done * len(entries):.0f} s (budget {budget:.0f} s); "
                    f"comparing at {done:,} leaves instead[/yellow]"
                )
                return elapsed, done
    return time.perf_counter() - start, len(entries)


def time_proofs(prove: Callable[[int, int], object], indices: list[int], size: int) -> float:
    for index in indices[:WARM_UP_PROOFS]:
        prove(index, size)
    start = time.perf_counter()
    for index in indices[WARM_UP_PROOFS:]:
        prove(index, size)
    return time.perf_counter() - start


def cross_check(log: MerkleLog, tree, size: int, rng: random.Random, where: str) -> None:
    if log.root(size) != tree.get_root(size):
        raise SystemExit(f"{where}: roots differ at size {size}")
    for index in rng.sample(range(size), min(CROSS_CHECKED_PROOFS, size)):
        theirs = tree.prove_inclusion(index + 1, size).path[1:]
        if log.inclusion_proof(index, size) != theirs:
            raise SystemExit(f"{where}: proofs for leaf {index} at size {size} differ")


def bench_proofs(
    size: int, proof_count: int, budget: float, workdir: Path, rng: random.Random
) -> tuple[list[Row], list[tuple[str, float]]]:
    entries = records(size)
    rows: list[Row] = []
    builds: list[tuple[str, float]] = []
    for where in ("in memory", "SQLite file"):
        # One call per backend, so each pair of trees is freed before the next
        # is built (pymerkle's in-memory tree of a million leaves holds ~400 MB).
        bench_proofs_in(where, entries, proof_count, budget, workdir, rng, rows, builds)
    return rows, builds


def bench_proofs_in(
    where: str,
    entries: list[bytes],
    proof_count: int,
    budget: float,
    workdir: Path,
    rng: random.Random,
    rows: list[Row],
    builds: list[tuple[str, float]],
) -> None:
    size = len(entries)
    engine = connection = None
    if where == "in memory":
        log = MerkleLog(MemoryNodeStore())
        ours_build = build_ours(log, entries, f"ours, {where}")
        theirs = pymerkle.InmemoryTree()
    else:
        engine = sqlite_engine(workdir / "ours_proofs.db")
        connection = engine.connect()
        log = MerkleLog(SqlNodeStore(connection))
        ours_build = build_ours(log, entries, f"ours, {where}", commit=connection.commit)
        theirs = pymerkle.SqliteTree(str(workdir / "pymerkle_proofs.db"))
    theirs_build, theirs_size = build_pymerkle(theirs, entries, f"pymerkle, {where}", budget)
    builds.append((f"ours, {where}, {size:,} leaves", ours_build))
    builds.append((f"pymerkle, {where}, {theirs_size:,} leaves", theirs_build))

    def indices_for(tree_size: int) -> list[int]:
        return [rng.randrange(tree_size) for _ in range(WARM_UP_PROOFS + proof_count)]

    def prove_theirs(index: int, tree_size: int) -> object:
        return theirs.prove_inclusion(index + 1, tree_size)  # pymerkle counts leaves from 1

    cross_check(log, theirs, theirs_size, rng, where)
    indices = indices_for(theirs_size)
    theirs_seconds = time_proofs(prove_theirs, indices, theirs_size)
    ours_seconds = time_proofs(log.inclusion_proof, indices, theirs_size)
    rows.append(
        (f"{proof_count:,} inclusion proofs, {where}, {theirs_size:,} leaves", ours_seconds, theirs_seconds, "")
    )
    if theirs_size != size:
        ours_full = time_proofs(log.inclusion_proof, indices_for(size), size)
        rows.append(
            (
                f"{proof_count:,} inclusion proofs, {where}, {size:,} leaves",
                ours_full,
                None,
                "pymerkle not built this far",
            )
        )
    if connection is not None:
        connection.close()
        engine.dispose()
        theirs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--append-leaves", type=int, default=100_000)
    parser.add_argument("--proof-leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=10_000)
    parser.add_argument("--pymerkle-build-budget", type=float, default=300.0, help="seconds per pymerkle build")
    parser.add_argument("--seed", type=int, default=9162)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    console.print(f"Python {sys.version.split()[0]}, pymerkle {pymerkle.__version__}, SQLite defaults on both sides")
    with tempfile.TemporaryDirectory(prefix="bench_log_") as tmp:
        workdir = Path(tmp)
        console.print(f"(a) appending {args.append_leaves:,} leaves ...")
        append_rows = bench_appends(args.append_leaves, workdir)
        console.print(
            f"(b) building {args.proof_leaves:,}-leaf trees, then {args.proofs:,} random inclusion proofs ..."
        )
        proof_rows, builds = bench_proofs(args.proof_leaves, args.proofs, args.pymerkle_build_budget, workdir, rng)

    console.print(
        "\nBuild times for (b) (chunks of 50,000 leaves; pymerkle's SqliteTree stores leaves only and hashes at proof time):"
    )
    for label, seconds in builds:
        console.print(f"  {label:<44} {seconds:8.2f} s")

    table = Table(title="ledger.log vs pymerkle 7 (same run, same data; speedup = pymerkle time / ours)")
    table.add_column("task")
    table.add_column("ours", justify="right")
    table.add_column("pymerkle", justify="right")
    table.add_column("speedup", justify="right")
    table.add_column("note")
    for label, ours, theirs, note in append_rows:
        count = args.append_leaves
        table.add_row(
            label,
            f"{ours:.3f} s ({count / ours / 1000:,.0f}k leaves/s)",
            f"{theirs:.3f} s ({count / theirs / 1000:,.0f}k leaves/s)",
            f"{theirs / ours:.1f}x",
            note,
        )
    for label, ours, theirs, note in proof_rows:
        per_ours = ours / args.proofs * 1e6
        if theirs is None:
            table.add_row(label, f"{ours:.3f} s ({per_ours:.1f} µs/proof)", "-", "-", note)
            continue
        per_theirs = theirs / args.proofs * 1e6
        table.add_row(
            label,
            f"{ours:.3f} s ({per_ours:.1f} µs/proof)",
            f"{theirs:.3f} s ({per_theirs:.1f} µs/proof)",
            f"{theirs / ours:.1f}x",
            note,
        )
    console.print(table)
    console.print(
        f"Proofs timed after {WARM_UP_PROOFS:,} untimed warm-up proofs each; roots and "
        f"{CROSS_CHECKED_PROOFS} proofs per tree checked identical between the two libraries."
    )


if __name__ == "__main__":
    main()
