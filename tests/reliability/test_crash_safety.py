"""Crash safety (issue 8, item 1): `traceledger serve` under continuous capture
is killed with SIGKILL 20 times, half of them at random moments and half
while a checkpoint is being anchored (its row written ``pending``, its
transaction in flight). After each kill every acknowledged event is in the
index; after each restart the log is anchored within the bound; at the end
every acknowledged event is in the log exactly once and the log audits clean.

Embedded chain and SQLite: the default set-up, where the chain itself lives
in the killed process. The seed is printed; set TRACELEDGER_CRASH_SEED to
replay a run's kill moments.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from pathlib import Path

import httpx
import pytest

from ledger.audit import audit_index
from ledger.runtime import open_ledger
from tests.reliability.evidence import checkpoint_trail, record_figures, stored_event_counts
from tests.reliability.server import anchored_to, wait_for
from tests.reliability.site_setup import FARM_GLN, PRODUCT, make_site
from tests.reliability.traffic import CaptureLoad

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

KILLS = 20
MAX_DELAY = 0.3  # TRACELEDGER_ANCHOR_MAX_DELAY of the server under test
# After a restart the waiting records are already older than MAX_DELAY, so
# the first anchoring round (reconcile, then anchor) must cover them; the rest
# of the bound is room for a loaded CI machine.
ANCHOR_BOUND = MAX_DELAY + 10.0


class IndexFile:
    """Reads of the server's SQLite index from the test process (WAL: they never block the server)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)

    def scalar(self, sql: str) -> int:
        return self.conn.execute(sql).fetchone()[0]

    def event_ids(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT hash_id FROM epcis_event")}

    def wait_for_pending_checkpoint(self, timeout: float) -> bool:
        """Poll until a checkpoint row is ``pending`` (its transaction on its way); False at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.conn.execute("SELECT 1 FROM checkpoint WHERE status = 'pending' LIMIT 1").fetchone():
                return True
            time.sleep(0.001)
        return False


def test_acknowledged_captures_survive_sigkill(tmp_path: Path) -> None:
    begun = time.monotonic()
    seed = int(os.environ.get("TRACELEDGER_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\ncrash-safety seed {seed} (TRACELEDGER_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    site = make_site(tmp_path)
    server = site.server(tmp_path / "serve.log", TRACELEDGER_ANCHOR_MAX_DELAY=str(MAX_DELAY))
    index = IndexFile(site.settings.data_dir / "index.sqlite")
    restarts = [server.start()]
    http = httpx.Client(base_url=server.url, timeout=5)  # reconnects by itself after each restart
    load = CaptureLoad(server.url, site.producer, product=PRODUCT, location=FARM_GLN, tag="K").start()
    anchor_waits: list[float] = []
    mid_anchoring = 0
    try:
        for kill in range(KILLS):
            if kill % 2 == 1:
                # During anchoring: the moment the anchorer has written its pending row, plus up to 30 ms,
                # so some kills land before the transaction is sent and some after it is mined.
                index.wait_for_pending_checkpoint(timeout=5.0)
                time.sleep(rng.uniform(0, 0.03))
            else:
                time.sleep(rng.uniform(0.1, 1.0))
            server.kill()

            mid_anchoring += index.scalar("SELECT count(*) FROM checkpoint WHERE status = 'pending'") > 0
            log_size = index.scalar("SELECT count(*) FROM record")
            with load.book.lock:
                acknowledged = set(load.book.acknowledged)
            missing = acknowledged - index.event_ids()
            assert not missing, f"seed {seed}, kill {kill + 1}: {len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"

            restarts.append(server.start())
            anchor_waits.append(wait_for(lambda size=log_size: anchored_to(http, size), ANCHOR_BOUND,
                                         f"seed {seed}, restart {kill + 1}: {log_size} records anchored", server))
        time.sleep(0.5)  # the clients capture on the last life too
        book = load.stop()
        final_size = index.scalar("SELECT count(*) FROM record")
        wait_for(lambda: anchored_to(http, final_size), ANCHOR_BOUND, f"seed {seed}: all {final_size} records anchored", server)
    except BaseException:
        load.stop(abandon=True)
        raise
    finally:
        http.close()
        index.conn.close()
        server.stop()
    assert not book.errors, f"seed {seed}: clients got errors: {book.errors[:3]}"

    with open_ledger(site.settings) as ledger:
        counts = stored_event_counts(ledger.engine)
        report = audit_index(ledger)
        checkpoints = checkpoint_trail(ledger.engine, ledger.chain, ledger.contract("CheckpointAnchor"))
    found = sum(1 for hash_id in book.acknowledged if counts[hash_id] >= 1)
    duplicated = sum(1 for n in counts.values() if n > 1)
    record_figures("crash_safety", {
        "seed": seed,
        "kills": KILLS,
        "kills_mid_anchoring": mid_anchoring,
        "captures_acknowledged": len(book.captures),
        "captures_resent_after_no_answer": book.resent,
        "events_acknowledged": len(book.acknowledged),
        "events_found": found,
        "events_duplicated": duplicated,
        "records": report.records,
        "checkpoints": len(checkpoints),
        "restart_seconds_median": round(statistics.median(restarts), 2),
        "restart_seconds_max": round(max(restarts), 2),
        "anchored_after_restart_seconds_max": round(max(anchor_waits), 2),
        "anchor_bound_seconds": ANCHOR_BOUND,
        "test_seconds": round(time.monotonic() - begun, 1),
    })
    assert found == len(book.acknowledged), f"seed {seed}: {len(book.acknowledged) - found} acknowledged events missing"
    assert duplicated == 0 and book.not_fresh == 0, f"seed {seed}: events appended twice"
    assert set(counts) == set(book.acknowledged), f"seed {seed}: the log holds events no client was told about"
    assert report.records == len(book.captures) + len(book.acknowledged), "records beyond the acknowledged captures"
    assert report.ok, [str(d) for d in report.discrepancies]
    assert checkpoints[-1] == report.records == report.anchored_size
