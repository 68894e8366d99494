"""Capture throughput through HTTP, against anchoring each event in its own
transaction (what many blockchain traceability systems do).

Ours: a real `traceledger serve` process; signed EPCIS documents of 1,000
events each, posted by 2 concurrent clients; each event validated, hashed,
authorised, stored and appended to the Merkle log before the 202 returns
(anchoring is one transaction per checkpoint, in the background). Measured
on SQLite (embedded chain) and on PostgreSQL (anvil), and again with anvil
mining a block only every 2 s with a 4M gas limit: our capture must not slow
down with it.

Baseline, same run: the same number of events, one transaction per event
(the event hash as calldata), sent to anvil as fast as it accepts them and
waited for; on the instant chain and on the slow one.

    python bench/bench_capture.py [--docs 10] [--baseline-events 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa
from eth_account import Account
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from local_server import serve  # noqa: E402

from ledger.bootstrap import init_data_dir  # noqa: E402
from ledger.capture.signing import SigningDomain  # noqa: E402
from ledger.client import epcis_document, sign_document  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.epcis.build import gln, gtin, item, object_event  # noqa: E402
from ledger.participants.service import register_participant  # noqa: E402
from ledger.runtime import open_ledger  # noqa: E402
from tests.support import AnvilProcess, anvil_binary  # noqa: E402

console = Console()
FARM_GLN = gln("952100000001")
PRODUCT = gtin("0952100000010")
POSTGRES_ADMIN = os.environ.get("TRACELEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_postgres() -> str:
    name = f"tl_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)


def prepare(settings: Settings, docs: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Init the data dir, register a producer, and sign the documents (outside the timing)."""
    init_data_dir(settings)
    farmer = Account.create()
    with open_ledger(settings) as ledger:
        register_participant(ledger, gln=FARM_GLN, name="Bench Farm", roles=["PRODUCER"], keys=[farmer.address])
        domain = SigningDomain(ledger.chain.chain_id, ledger.manifest.contracts["ParticipantRegistry"])
    prepared = []
    for d in range(docs):
        events = [
            object_event(epcs=[item(PRODUCT, f"{tag}-{d}-{i}")], action="ADD", biz_step="commissioning",
                         disposition="active", location=FARM_GLN)
            for i in range(1000)
        ]
        signed = sign_document(epcis_document(events), farmer, domain)
        prepared.append((json.dumps(signed.document).encode(), signed.headers | {"content-type": "application/json"}))
    return prepared


def post_all(url: str, prepared: list[tuple[bytes, dict[str, str]]], clients: int = 2) -> float:
    """Events per second for posting every document, ``clients`` at a time."""
    def post(doc: tuple[bytes, dict[str, str]]) -> None:
        with httpx.Client(timeout=120) as http:
            response = http.post(url + "/capture", content=doc[0], headers=doc[1])
            if response.status_code != 202:
                raise RuntimeError(f"capture failed: {response.status_code} {response.text[:300]}")

    post(prepared[0])  # warm-up: first request pays imports and caches
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, prepared[1:]))
    return (len(prepared) - 1) * 1000 / (time.perf_counter() - started)


def ours(name: str, docs: int, database_url: str | None, rpc: AnvilProcess | None) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        env: dict[str, str] = {}
        if database_url:
            env["TRACELEDGER_DATABASE_URL"] = database_url
        if rpc:
            env["TRACELEDGER_RPC_URL"] = rpc.url
        key_file = None
        if rpc:  # anvil charges gas: use its funded dev account 0 as the service key
            from ledger.keystore import create_keystore

            key_file = Path(scratch) / "service.json"
            dev = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
            service = create_keystore(key_file, "bench", scrypt_n=2**10)
            from ledger.chain.rpc import RpcChain

            with RpcChain(rpc.url) as chain:
                chain.send_value(service.address, 10**21, sender=dev)
            env["TRACELEDGER_KEY_FILE"] = str(key_file)
        settings = Settings(data_dir=Path(scratch) / "node", key_password="bench", database_url=database_url,
                            rpc_url=rpc.url if rpc else None, key_file=key_file)
        with console.status(f"{name}: preparing {docs} signed documents of 1,000 events"):
            prepared = prepare(settings, docs, uuid.uuid4().hex[:6])
        process, url = serve(settings.data_dir, env)
        try:
            with console.status(f"{name}: capturing"):
                rate = post_all(url, prepared)
        finally:
            process.terminate()
            process.wait(timeout=30)
    console.print(f"  ours, {name}: {rate:,.0f} events/s")
    return rate


def baseline(events: int, rpc: AnvilProcess, label: str, time_limit: float = 60.0) -> float:
    """One transaction per event, sent as fast as anvil accepts them, all receipts awaited."""
    from ledger.chain.rpc import RpcChain

    chain = RpcChain(rpc.url)
    sender = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [sender.address, hex(10**24)])
    fees = chain._fees()
    fees = {"maxFeePerGas": fees.get("maxFeePerGas", 0) * 4 or 10**10, "maxPriorityFeePerGas": fees.get("maxPriorityFeePerGas", 10**9)}
    sink = Account.create().address
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    raw = [
        sender.sign_transaction({"to": sink, "value": 0, "data": os.urandom(32), "gas": 30_000, "nonce": nonce + i,
                                 "chainId": chain.chain_id, "type": 2, **fees}).raw_transaction
        for i in range(events)
    ]
    started = time.perf_counter()
    hashes = []
    for tx in raw:
        hashes.append(chain.w3.eth.send_raw_transaction(tx))
        if time.perf_counter() - started > time_limit:
            break
    for tx_hash in hashes[-1:]:
        chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300, poll_latency=0.05)
    rate = len(hashes) / (time.perf_counter() - started)
    console.print(f"  baseline, {label}: {rate:,.0f} events/s ({len(hashes):,} transactions)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=11, help="documents of 1,000 events (the first warms up)")
    parser.add_argument("--baseline-events", type=int, default=3000)
    args = parser.parse_args()
    binary = anvil_binary()
    if binary is None:
        sys.exit("anvil not found: run `npm ci`")
    instant = AnvilProcess(binary)
    # A slower chain: a block every 2 s with room for ~170 plain transactions.
    slow = AnvilProcess(binary, "--block-time", "2", "--gas-limit", "4000000")
    instant.start()
    slow.start()
    try:
        results = {
            "SQLite, embedded chain": ours("SQLite, embedded chain", args.docs, None, None),
            "PostgreSQL, anvil (instant blocks)": ours("PostgreSQL, anvil", args.docs, fresh_postgres(), instant),
            "PostgreSQL, slow anvil (2 s blocks, 4M gas)": ours("PostgreSQL, slow anvil", args.docs, fresh_postgres(), slow),
        }
        base_fast = baseline(args.baseline_events, instant, "anvil, instant blocks")
        base_slow = baseline(min(args.baseline_events, 1500), slow, "slow anvil (2 s blocks, 4M gas)", time_limit=10)
    finally:
        instant.stop()
        slow.stop()

    table = Table(title="capture throughput (events/s), one run")
    table.add_column("setup")
    table.add_column("ours", justify="right")
    table.add_column("one tx per event", justify="right")
    table.add_column("ratio", justify="right")
    for name, rate in results.items():
        base = base_slow if "slow" in name else base_fast
        table.add_row(name, f"{rate:,.0f}", f"{base:,.0f}", f"{rate / base:,.1f}x")
    console.print(table)
    slowdown = results["PostgreSQL, slow anvil (2 s blocks, 4M gas)"] / results["PostgreSQL, anvil (instant blocks)"]
    console.print(f"on the slow chain ours runs at {slowdown:.2f}x its instant-block speed; "
                  f"the baseline at {base_slow / base_fast:.2f}x")
    console.print(f"target 5,000 events/s: SQLite {'met' if results['SQLite, embedded chain'] >= 5000 else 'NOT met'}, "
                  f"PostgreSQL {'met' if results['PostgreSQL, anvil (instant blocks)'] >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
