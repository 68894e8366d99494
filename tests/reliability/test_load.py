"""Load (issue 8, item 6): 60 seconds of mixed traffic from concurrent clients
against one `traceledger serve` on PostgreSQL and anvil, with zero errors;
p50/p99 per route printed.

Clients, all at once: 2 capturing signed documents of 10 events back to back,
3 looking up traces by Digital Link (items captured so far, JSON with proofs),
2 checking traders against the whitelist (a chain read each). Afterwards
every acknowledged event is in the log once, the log is anchored and audits
clean. TRACELEDGER_LOAD_SECONDS shortens the run while iterating.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ledger.audit import AuditReport, audit_index
from ledger.client import LedgerClient, epcis_document
from ledger.epcis.build import item, object_event
from ledger.runtime import open_ledger
from ledger.whitelist.service import Whitelist
from tests.reliability.evidence import checkpoint_trail, record_figures, stored_event_counts
from tests.reliability.server import anchored_to, wait_for
from tests.reliability.site_setup import FARM_GLN, PRODUCT, make_site
from tests.reliability.traffic import CaptureLoad
from tests.whitelist.conftest import content, uscc

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres, pytest.mark.anvil]

SECONDS = float(os.environ.get("TRACELEDGER_LOAD_SECONDS", "60"))
CAPTURE_CLIENTS, TRACE_CLIENTS, WHITELIST_CLIENTS = 2, 3, 2
LISTED = [uscc(300 + n) for n in range(20)]
UNLISTED = [uscc(400 + n) for n in range(2)]  # answered "unknown": still a chain read
ANCHOR_BOUND = 60.0


@dataclass
class Route:
    """Latencies and failures of one route, shared by its clients."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def figures(self, seconds: float) -> dict[str, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {"requests": 0}
        return {
            "requests": len(ordered),
            "per_second": round(len(ordered) / seconds, 1),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "max_ms": round(1000 * ordered[-1], 1),
        }


def read_client(url: str, route: Route, deadline: float, next_path: Callable[[random.Random], str], seed: int) -> None:
    """GET ``next_path()`` back to back until ``deadline``; anything but a 200 is an error."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=30, headers={"Accept": "application/json"}) as http:
        while time.monotonic() < deadline:
            path = next_path(rng)
            started = time.perf_counter()
            try:
                response = http.get(path)
                failure = None if response.status_code == 200 else f"{path} -> {response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                failure = f"{path} -> {exc!r}"
            elapsed = time.perf_counter() - started
            with route.lock:
                if failure:
                    route.errors.append(failure)
                else:
                    route.latencies.append(elapsed)


def test_sixty_seconds_of_mixed_traffic_without_an_error(tmp_path: Path, anvil, postgres_url: str) -> None:
    site = make_site(tmp_path, rpc_url=anvil.url, database_url=postgres_url)
    with open_ledger(site.settings) as ledger:
        whitelist = Whitelist.from_ledger(ledger)
        for code in LISTED:
            whitelist.set_entry(content(code), sender=ledger.service_account)
    server = site.server(tmp_path / "serve.log", TRACELEDGER_ANCHOR_MAX_DELAY="1.0")
    server.start()
    load = CaptureLoad(server.url, site.producer, product=PRODUCT, location=FARM_GLN, tag="L",
                       clients=CAPTURE_CLIENTS, events_per_capture=10)
    try:
        with LedgerClient(server.url, site.producer) as warm_up:  # items to look up from the first second
            seeded = [f"W.{i}" for i in range(20)]
            warm_up.capture(epcis_document([
                object_event(epcs=[item(PRODUCT, serial)], action="ADD", biz_step="commissioning", disposition="active",
                             location=FARM_GLN) for serial in seeded]))
        load.book.items.extend(f"/01/{PRODUCT}/21/{serial}" for serial in seeded)

        def trace_path(rng: random.Random) -> str:
            with load.book.lock:
                return rng.choice(load.book.items)

        def check_path(rng: random.Random) -> str:
            return f"/v1/traders/{rng.choice(LISTED + UNLISTED)}/check?scope=OFFSHORE_TRADE"

        trace, check = Route(), Route()
        started = time.monotonic()
        deadline = started + SECONDS
        readers = [threading.Thread(target=read_client, args=(server.url, trace, deadline, trace_path, n))
                   for n in range(TRACE_CLIENTS)]
        readers += [threading.Thread(target=read_client, args=(server.url, check, deadline, check_path, 100 + n))
                    for n in range(WHITELIST_CLIENTS)]
        live_audits: list[AuditReport] = []

        def audit_while_serving() -> None:
            """Audits beside the live server: each must see one consistent index, whatever is captured meanwhile."""
            with open_ledger(site.settings) as auditor:
                while time.monotonic() < deadline:
                    live_audits.append(audit_index(auditor))

        readers.append(threading.Thread(target=audit_while_serving))
        load.start()
        for thread in readers:
            thread.start()
        for thread in readers:
            thread.join()
        book = load.stop()
        elapsed = time.monotonic() - started

        # The warm-up capture (a capture record and its events), then a capture record and 10 events per capture.
        expected_records = 1 + len(seeded) + len(book.captures) + len(book.acknowledged)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            wait_for(lambda: anchored_to(http, expected_records), ANCHOR_BOUND, "the log anchored after the load", server)
    except BaseException:
        load.stop(abandon=True)
        raise
    finally:
        server.stop()

    with open_ledger(site.settings) as ledger:
        counts = stored_event_counts(ledger.engine)
        report = audit_index(ledger)
        checkpoints = checkpoint_trail(ledger.engine, ledger.chain, ledger.contract("CheckpointAnchor"))
    capture_route = Route(latencies=book.latencies, errors=book.errors)
    routes = {"POST /capture": capture_route, "GET /01/.../21/... (trace, JSON)": trace,
              "GET /v1/traders/{uscc}/check": check}
    figures: dict[str, object] = {"seconds": round(elapsed, 1), "clients": CAPTURE_CLIENTS + TRACE_CLIENTS + WHITELIST_CLIENTS,
                                  "database": "PostgreSQL", "chain": "anvil"}
    for name, route in routes.items():
        figures[name] = route.figures(elapsed) | {"errors": len(route.errors)}
    figures |= {"events_captured": len(book.acknowledged), "records": report.records, "checkpoints": len(checkpoints),
                "audits_while_serving": len(live_audits),
                "audit_discrepancies_while_serving": sum(len(a.discrepancies) for a in live_audits)}
    record_figures("load", figures)
    for name, route in routes.items():
        assert not route.errors, f"{name}: {len(route.errors)} errors, e.g. {route.errors[:3]}"
    assert book.resent == 0 and book.not_fresh == 0
    assert all(counts[hash_id] == 1 for hash_id in book.acknowledged)
    assert report.ok, [str(d) for d in report.discrepancies]
    assert len(live_audits) >= 2 and live_audits[-1].records > live_audits[0].records
    assert all(a.ok for a in live_audits), [str(d) for a in live_audits for d in a.discrepancies][:5]
    assert checkpoints[-1] == report.records == expected_records
