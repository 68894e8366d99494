"""Trader whitelist: bulk import on anvil, and checks through a real API server.

1. Starts anvil (npm @foundry-rs/anvil) and a data dir on it whose service key
   holds CUSTOMS.
2. Imports a customs list of N traders (default 10,000) with the importer
   `traceledger whitelist import` uses: seconds and transactions.
3. Starts `uvicorn` on 127.0.0.1 (one worker, the whitelist router mounted)
   and drives it with 32 concurrent clients (httpx, asyncio): first
   `GET /healthz` (the floor any route pays), then
   `GET /v1/traders/{uscc}/check?scope=OFFSHORE_TRADE` on random traders of
   the list (plus a few unknown ones). Each check reads the latest block, then
   calls the contract's `checkTrader` at that block. Prints p50/p99 latency,
   requests/s and the ratio of the two.
4. Audits the contract mirrors of the index (`audit_mirrors`: the whitelist's
   events rebuilt from the chain and compared row by row), next to its
   baseline in the same run: the first sync of the whitelist mirror into the
   index, which reads the same events.

    python bench/bench_whitelist.py [N] [SECONDS_PER_LOAD]
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ledger.audit import AuditReport, audit_mirrors
from ledger.bootstrap import init_data_dir
from ledger.chain.deploy import OPERATOR_GLN, participant_id, role_id
from ledger.config import Settings
from ledger.crossborder.sync import whitelist_mirror
from ledger.keystore import create_keystore
from ledger.runtime import open_ledger
from ledger.whitelist.importer import Importer
from ledger.whitelist.service import Whitelist
from ledger.whitelist.uscc import with_check_character

PASSWORD = "bench"
CLIENTS = 32

SERVER = """
import uvicorn
from api import whitelist
from api.app import create_app

def factory():
    app = create_app()
    if not any(getattr(r, "path", "") == "/v1/traders/{uscc}" for r in app.routes):
        app.include_router(whitelist.router)
    return app

uvicorn.run(factory, factory=True, host="127.0.0.1", port=%d, log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def anvil_binary() -> str:
    local = REPO / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    found = str(local) if local.exists() else shutil.which("anvil")
    if not found:
        sys.exit("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    return found


def customs_list(n: int) -> tuple[bytes, list[str]]:
    levels = ("ADVANCED_CERTIFIED", "GENERAL", "GENERAL", "DISHONEST")
    scopes = ("OFFSHORE_TRADE|EXPEDITED_CLEARANCE", "OFFSHORE_TRADE", "EXPEDITED_CLEARANCE", "")
    codes, lines = [], ["uscc,name,level,scopes,valid_from,valid_until,dossier_sha256\n"]
    for i in range(n):
        code = with_check_character(f"91{310000 + i % 1000:06d}{i:09d}")
        codes.append(code)
        digest = f"{i + 1:064x}"
        lines.append(f"{code},Trader {i},{levels[i % 4]},{scopes[i % 4]},2026-01-01,2030-12-31,{digest}\n")
    return "".join(lines).encode(), codes


async def load(base: str, paths: list[str], seconds: float) -> tuple[list[float], int, float]:
    """CLIENTS concurrent clients, each looping over random paths, for `seconds`; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)

    async def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                response = await http.get(rng.choice(paths))
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(n: int = 10_000, seconds: float = 15.0) -> None:
    console = Console(width=110)
    bench_started = time.perf_counter()
    anvil_port, api_port = free_port(), free_port()
    anvil = subprocess.Popen([anvil_binary(), "--port", str(anvil_port), "--silent"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        wait_port(anvil_port)
        rpc_url = f"http://127.0.0.1:{anvil_port}"
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch) / "node"
            key = create_keystore(data_dir / "keystore" / "admin.json", PASSWORD, scrypt_n=2**12)
            settings = Settings(data_dir=data_dir, rpc_url=rpc_url, key_password=PASSWORD, anchor_enabled=False)
            httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_setBalance",
                                      "params": [key.address, hex(10**24)]}).raise_for_status()
            init_data_dir(settings)
            data, codes = customs_list(n)

            with open_ledger(settings) as ledger:
                registry = ledger.contract("ParticipantRegistry")
                ledger.chain.transact(registry.functions.grantParticipantRole(
                    participant_id(OPERATOR_GLN), role_id("CUSTOMS")), sender=ledger.service_account)
                columns = (TextColumn(f"importing {n:,} traders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                with Progress(*columns, console=console, transient=True) as progress:
                    task = progress.add_task("import", total=n)
                    importer = Importer(Whitelist.from_ledger(ledger), ledger.engine, ledger.service_account,
                                        progress=lambda done, total, note: progress.update(task, completed=done))
                    report = importer.run(data, name="customs-list.csv")
                rerun = importer.run(data, name="customs-list.csv")
                gas_limit = ledger.chain.w3.eth.get_block("latest")["gasLimit"]
                whitelist = Whitelist.from_ledger(ledger)
                for i, code in enumerate(codes[:100:17]):
                    if i % 2:
                        whitelist.suspend(code, "bench: suspended", sender=ledger.service_account)
                    else:
                        whitelist.revoke(code, "bench: revoked", sender=ledger.service_account)
                started = time.perf_counter()
                synced = whitelist_mirror(ledger).sync()
                first_sync = time.perf_counter() - started
                audit = AuditReport()
                audit_mirrors(ledger, audit)
                assert audit.ok, [str(d) for d in audit.discrepancies[:3]]
            assert report.written == n and rerun.written == 0 and rerun.unchanged == n

            env = {**os.environ, "TRACELEDGER_DATA_DIR": str(data_dir), "TRACELEDGER_KEY_PASSWORD": PASSWORD,
                   "TRACELEDGER_ANCHOR_ENABLED": "false", "PYTHONPATH": str(REPO)}
            env.pop("TRACELEDGER_DATABASE_URL", None)
            server = subprocess.Popen([sys.executable, "-c", SERVER % api_port], env=env, cwd=REPO)
            wait_port(api_port)
            base = f"http://127.0.0.1:{api_port}"
            unknown = [with_check_character(f"92{440000:06d}{i:09d}") for i in range(50)]
            check_paths = [f"/v1/traders/{c}/check?scope=OFFSHORE_TRADE" for c in codes + unknown]
            sample = httpx.get(base + check_paths[0]).json()
            assert sample["blockNumber"] and sample["blockHash"], sample

            asyncio.run(load(base, ["/healthz"], 1.5))  # warm-up
            asyncio.run(load(base, check_paths, 1.5))
            health, health_errors, health_s = asyncio.run(load(base, ["/healthz"], seconds))
            checks, check_errors, check_s = asyncio.run(load(base, check_paths, seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        anvil.terminate()
        anvil.wait(timeout=10)

    table = Table(title=f"bulk import of {n:,} traders on anvil (block gas limit {gas_limit:,})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("seconds", f"{report.seconds:.1f}")
    table.add_row("transactions", f"{report.transactions} (up to {max(report.batch_sizes)} entries each)")
    table.add_row("gas used", f"{report.gas_used:,} ({report.gas_used / n:,.0f} per trader)")
    table.add_row("traders/s", f"{n / report.seconds:,.0f}")
    table.add_row("re-run of the same file", f"{rerun.seconds:.1f}s, {rerun.transactions} transactions, "
                                             f"{rerun.unchanged:,} already on chain")
    console.print(table)

    table = Table(title=f"API on 127.0.0.1 (uvicorn, 1 worker), {CLIENTS} concurrent clients, {seconds:.0f}s each")
    for column in ("route", "requests", "errors", "p50 ms", "p99 ms", "requests/s"):
        table.add_column(column, justify="right" if column != "route" else "left")
    rows = (("GET /healthz", health, health_errors, health_s),
            ("GET /v1/traders/{uscc}/check", checks, check_errors, check_s))
    for name, latencies, errors, elapsed in rows:
        table.add_row(name, f"{len(latencies):,}", str(errors), f"{percentile(latencies, 50):.1f}",
                      f"{percentile(latencies, 99):.1f}", f"{len(latencies) / elapsed:,.0f}")
    console.print(table)
    health_rps, check_rps = len(health) / health_s, len(checks) / check_s
    console.print(f"check throughput is {check_rps / health_rps:.2f}x /healthz's "
                  f"(p50 {percentile(checks, 50) / percentile(health, 50):.1f}x the latency); "
                  f"each check = eth_getBlockByNumber + eth_call to anvil, answered from chain state")
    console.print(f"mirror audit: {audit.mirror_rows:,} mirrored rows rebuilt from the chain and compared in "
                  f"{audit.mirror_seconds:.2f}s, next to {first_sync:.2f}s for the first sync of the whitelist mirror "
                  f"({synced.events:,} events) in the same run ({audit.mirror_seconds / first_sync:.2f}x its time)")
    console.print(f"bench total {time.perf_counter() - bench_started:.0f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, float(sys.argv[2]) if len(sys.argv) > 2 else 15.0)
