"""Full audit throughput on SQLite (target: at least 50,000 records/s).

Builds an index of N records (default 100,000) anchored in 10 checkpoints on
the embedded chain, then times `audit_log`. The baseline, measured in the
same run, is the floor any audit must pay: reading every record and leaf row
and hashing each record once, with nothing else. The ratio shows how close
the full audit (leaves, tree rebuild, nodes, checkpoints) comes to it.

    python bench/bench_audit.py [N]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.progress import track
from rich.table import Table

from ledger.anchor.service import Anchorer
from ledger.audit import audit_log
from ledger.chain.deploy import deploy_contracts
from ledger.chain.embedded import EmbeddedChain
from ledger.index.db import open_index
from ledger.records.append import NewRecord, append_records


def main(n: int = 100_000) -> None:
    console = Console()
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

    table = Table(title=f"audit of {n:,} records on SQLite")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("records/s", justify="right")
    table.add_row("baseline: read rows + hash each record once", f"{floor:.2f}", f"{n / floor:,.0f}")
    table.add_row("full audit (leaves, tree, nodes, checkpoints)", f"{report.seconds:.2f}", f"{report.records_per_second:,.0f}")
    console.print(table)
    console.print(f"full audit runs at {floor / report.seconds:.2f}x the baseline's speed; "
                  f"target 50,000 records/s: {'met' if report.records_per_second >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
