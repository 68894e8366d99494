"""Audit throughput on SQLite.

1. The log (target: at least 50,000 records/s): an index of N records
   (default 100,000) anchored in 10 checkpoints on the embedded chain, then
   `audit_log` timed. The baseline, measured in the same run, is the floor
   any audit must pay: reading every record and leaf row and hashing each
   record once, with nothing else. The ratio shows how close the log audit
   (leaves, tree rebuild, nodes, checkpoints) comes to it.
2. The derived tables: a data dir with ~M captured events (default 100,000;
   the drug and food workload of bench_trace.py, captured through the
   capture service), then `audit_projections` timed (replay every event into
   a scratch database, compare every row of the five derived tables). The
   baseline, in the same run, is `rebuild_provenance`, the in-place rebuild
   of the trace tables an operator runs to repair them.

    python bench/bench_audit.py [--records N] [--events M]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.progress import track
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_trace import build  # the 100k-event drug and food workload

from ledger.anchor.service import Anchorer
from ledger.audit import AuditReport, audit_log, audit_projections
from ledger.chain.deploy import deploy_contracts
from ledger.chain.embedded import EmbeddedChain
from ledger.config import Settings
from ledger.index.db import open_index
from ledger.records.append import NewRecord, append_records
from ledger.trace.indexing import rebuild_provenance

console = Console()


def timing_table(title: str, rate: str) -> Table:
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column(rate, justify="right")
    return table


def audit_of_the_log(n: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        admin = Account.create()
        chain = EmbeddedChain(Path(scratch) / "chain.sqlite", funded=[admin.address])
        anchor = chain.contract("CheckpointAnchor", deploy_contracts(chain, admin)["CheckpointAnchor"])
        engine = open_index(f"sqlite:///{Path(scratch) / 'index.sqlite'}")
        anchorer = Anchorer(engine=engine, chain=chain, anchor=anchor, sender=admin)
        batch = n // 10
        for start in track(range(0, n, batch), description=f"building {n:,} records", console=console):
            append_records(engine, [
                NewRecord("bench.event", {"epc": f"urn:epc:id:sgtin:9521234.054321.{i}", "bizStep": "shipping", "seq": i})
                for i in range(start, min(start + batch, n))
            ])
            anchorer.anchor_once(force=True)

        started = time.perf_counter()
        with engine.connect() as conn:
            rows = conn.exec_driver_sql('SELECT "index", kind, body FROM record ORDER BY "index"')
            for _, kind, body in rows:
                hashlib.sha256(kind.encode() + body.encode()).digest()
            for _ in conn.exec_driver_sql('SELECT "index", leaf_hash FROM log_leaf ORDER BY "index"'):
                pass
        floor = time.perf_counter() - started

        report = audit_log(engine, chain, anchor)
        assert report.ok, report.discrepancies[:3]
        engine.dispose()
        chain.close()

    table = timing_table(f"audit of {n:,} records on SQLite", "records/s")
    table.add_row("baseline: read rows + hash each record once", f"{floor:.2f}", f"{n / floor:,.0f}")
    table.add_row("log audit (leaves, tree, nodes, checkpoints)", f"{report.seconds:.2f}", f"{report.records_per_second:,.0f}")
    console.print(table)
    console.print(f"log audit runs at {floor / report.seconds:.2f}x the baseline's speed; "
                  f"target 50,000 records/s: {'met' if report.records_per_second >= 50_000 else 'NOT met'}")


def audit_of_the_derived_tables(events: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch) / "node", key_password="bench")
        console.print(f"[bold]build[/]: ~{events:,} captured events")
        build(settings, events)
        engine = open_index(settings.index_url)
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM epcis_event").scalar_one()
        report = AuditReport()
        audit_projections(engine, report)
        assert report.ok, [str(d) for d in report.discrepancies[:3]]

        started = time.perf_counter()
        replayed = rebuild_provenance(engine)
        rebuild = time.perf_counter() - started
        assert replayed == stored
        engine.dispose()

    table = timing_table(f"audit of the tables derived from {stored:,} events on SQLite", "events/s")
    table.add_row("baseline: rebuild_provenance (trace tables, in place)", f"{rebuild:.2f}", f"{stored / rebuild:,.0f}")
    table.add_row(f"audit: replay all five tables, compare {report.projection_rows:,} rows",
                  f"{report.projection_seconds:.2f}", f"{stored / report.projection_seconds:,.0f}")
    console.print(table)
    console.print(f"the derived-table audit takes {report.projection_seconds / rebuild:.2f}x the time of a rebuild "
                  f"({report.projection_seconds / stored * 1e6:.0f} µs per event)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the log audit")
    parser.add_argument("--events", type=int, default=100_000, help="captured events in the derived-table audit (0 skips it)")
    args = parser.parse_args()
    audit_of_the_log(args.records)
    if args.events:
        audit_of_the_derived_tables(args.events)


if __name__ == "__main__":
    main()
