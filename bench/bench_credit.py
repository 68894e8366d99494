"""Credit profiles: 1,000 participants over a 100k-event index, in all and one through the API.

1. Build, on anvil (1,000 registrations and a few thousand status transactions
   take seconds there, minutes on the embedded chain) with a SQLite index:
   - 1,000 participants: 100 drug makers, 100 distributors, 250 pharmacies,
     100 farms, 100 plants, 348 shops, a regulator and a customs office;
   - ~100,000 events captured through ``ledger.capture.service.capture``
     (validation, signatures, log append, provenance indexing), from signed
     documents, one per party and round: drug shipments (20 packs
     commissioned, packed in 2 cases on a pallet, shipped, received and
     shipped on by a distributor, received at a pharmacy, unpacked, 4 packs
     dispensed: 15 events) and food units (a tomato lot harvested, shipped,
     made into sauce, shipped, received and sold: 7 events);
   - what profiles must notice: 2% of the shipments see a dispensed pack
     recorded again a day later, shops try to commission goods (refused),
     50 drug lots are registered on chain and 20 of them recalled by the
     regulator, 1,000 dispensed packs are decommissioned on chain.
2. Serve: ``traceledger serve`` in a subprocess; wait until the whole log is
   anchored and the status mirror has read every transaction.
3. Measure:
   - every participant's profile in one snapshot (``credit_profiles``, the
     set-based batch ``traceledger credit report`` uses): seconds in all and
     per profile; then 100 profiles one by one (``credit_profile``, what the
     API runs per request) for comparison;
   - ``GET /v1/participants/{gln}/credit`` (random participants) with 32
     concurrent clients, next to ``GET /healthz`` in the same run: p50, p99,
     requests/s.

    python bench/bench_credit.py [--events 100000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from eth_account import Account
from rich.console import Console

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_trace import CLIENTS, load, measured  # the same load generator and CPU accounting
from local_server import serve

from ledger.bootstrap import init_data_dir
from ledger.capture.errors import PolicyRefusedError
from ledger.capture.service import Submission, capture
from ledger.capture.signing import SigningDomain
from ledger.chain.deploy import participant_id, role_id
from ledger.chain.rpc import RpcChain
from ledger.client import epcis_document, sign_document
from ledger.config import Settings
from ledger.credit.rules import load_rules
from ledger.credit.service import credit_profile, credit_profiles
from ledger.epcis.build import aggregation_event, gln, gtin, item, lot, object_event, sscc, transformation_event
from ledger.gs1 import with_check_digit
from ledger.keystore import create_keystore
from ledger.participants.service import sync_registry
from ledger.runtime import open_ledger
from ledger.status.subjects import CONTRACT_NAME as STATUS_CONTRACT
from ledger.status.subjects import PackStatus, subject_key
from tests.support import AnvilProcess, anvil_binary, fund

console = Console(width=120)
PASSWORD = "bench"
ROLES = [("maker", "MANUFACTURER", 100), ("distributor", "DISTRIBUTOR", 100), ("pharmacy", "DISPENSER", 250),
         ("farm", "PRODUCER", 100), ("plant", "PROCESSOR", 100), ("shop", "RETAILER", 348),
         ("regulator", "REGULATOR", 1), ("customs", "CUSTOMS", 1)]
STAGES = ("maker", "farm", "plant", "distributor", "pharmacy", "shop")
"""Order of the documents in a round: what a party receives was recorded before."""
DRUG, TOMATO, SAUCE = gtin("0952100000034"), gtin("0952100000010"), gtin("0952100000027")
PACKS = 20
DRUG_EVENTS, FOOD_EVENTS = 15, 7
ROUND_UNITS = 2_000
RESCAN_SHARE = 0.02
REFUSALS = 100
REGISTERED_LOTS, RECALLS, DECOMMISSIONS = 50, 20, 1_000


class Party:
    def __init__(self, kind: str, role: str, n: int) -> None:
        self.kind, self.role = kind, role
        self.gln = with_check_digit(f"97{ROLES.index(next(r for r in ROLES if r[0] == kind)) + 1}{n:09d}")
        self.where = gln(self.gln[:-1])  # the party's location, as a Digital Link (gln() adds the check digit)
        self.account = Account.create()
        self.name = f"{kind.title()} {n}"
        self.events: list[dict] = []


def parties() -> dict[str, list[Party]]:
    return {kind: [Party(kind, role, n) for n in range(count)] for kind, role, count in ROLES}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


def drug_unit(n: int, clock: Clock, who: dict[str, Party], rng: random.Random, facts: dict) -> None:
    maker, distributor, pharmacy = who["maker"], who["distributor"], who["pharmacy"]
    packs = [item(DRUG, f"S{n}P{k}") for k in range(PACKS)]
    cases = [sscc(f"1952100{n:06d}{c:04d}") for c in range(2)]
    pallet = sscc(f"2952100{n:06d}0000")
    at = {p.kind: p.where for p in (maker, distributor, pharmacy)}
    maker.events += [
        object_event(epcs=packs, action="ADD", biz_step="commissioning", disposition="active", location=at["maker"],
                     when=clock(), ilmd={"cbvmda:lotNumber": f"L{n}", "cbvmda:itemExpirationDate": "2028-01-31"}),
        aggregation_event(parent=cases[0], children=packs[:10], location=at["maker"], when=clock()),
        aggregation_event(parent=cases[1], children=packs[10:], location=at["maker"], when=clock()),
        aggregation_event(parent=pallet, children=cases, location=at["maker"], when=clock()),
        object_event(epcs=[pallet], biz_step="shipping", disposition="in_transit", location=at["maker"], when=clock()),
    ]
    distributor.events += [
        object_event(epcs=[pallet], biz_step="receiving", disposition="in_progress", location=at["distributor"],
                     when=clock()),
        object_event(epcs=[pallet], biz_step="shipping", disposition="in_transit", location=at["distributor"],
                     when=clock()),
    ]
    pharmacy.events += [
        object_event(epcs=[pallet], biz_step="receiving", disposition="in_progress", location=at["pharmacy"], when=clock()),
        aggregation_event(parent=pallet, children=[], action="DELETE", biz_step="unpacking", location=at["pharmacy"],
                          when=clock()),
        *(aggregation_event(parent=case, children=[], action="DELETE", biz_step="unpacking", location=at["pharmacy"],
                            when=clock()) for case in cases),
        *(object_event(epcs=[pack], biz_step="dispensing", disposition="dispensed", location=at["pharmacy"], when=clock())
          for pack in packs[:4]),
    ]
    facts["lots"].append((maker, f"/01/{DRUG}/10/L{n}"))
    facts["dispensed"].extend((pharmacy, pack) for pack in packs[:4])
    if rng.random() < RESCAN_SHARE:  # a dispensed pack turns up again a day later
        later = facts["rng_party"]("pharmacy")
        later.events.append(object_event(epcs=[packs[0]], biz_step="receiving", disposition="in_progress",
                                         location=later.where, when=clock.now + timedelta(days=1)))
        facts["rescans"] += 1


def food_unit(n: int, clock: Clock, who: dict[str, Party]) -> None:
    farm, plant, shop = who["farm"], who["plant"], who["shop"]
    tomato, sauce = lot(TOMATO, f"T{n}"), lot(SAUCE, f"R{n}")
    farm.events += [
        object_event(quantities=[(tomato, 1200, "KGM")], action="ADD", biz_step="commissioning", disposition="active",
                     location=farm.where, when=clock()),
        object_event(quantities=[(tomato, 1200, "KGM")], biz_step="shipping", disposition="in_transit",
                     location=farm.where, when=clock()),
    ]
    plant.events += [
        object_event(quantities=[(tomato, 1200, "KGM")], biz_step="receiving", disposition="in_progress",
                     location=plant.where, when=clock()),
        transformation_event(inputs=[(tomato, 1200, "KGM")], outputs=[(sauce, 3000, None)], location=plant.where,
                             when=clock()),
        object_event(quantities=[(sauce, 3000, None)], biz_step="shipping", disposition="in_transit",
                     location=plant.where, when=clock()),
    ]
    shop.events += [
        object_event(quantities=[(sauce, 3000, None)], biz_step="receiving", disposition="sellable_accessible",
                     location=shop.where, when=clock()),
        object_event(quantities=[(sauce, 100, None)], biz_step="retail_selling", disposition="retail_sold",
                     location=shop.where, when=clock()),
    ]


def register_all(ledger, everyone: list[Party]) -> None:
    """Register every party, pipelining the transactions, then sync the registry mirror once."""
    registry = ledger.contract("ParticipantRegistry")
    sent = []
    for party in everyone:
        fund(ledger.chain, party.account.address)  # anvil charges gas
        sent.append(ledger.chain.send(registry.functions.registerParticipant(
            participant_id(party.gln), int(party.gln), party.name, [role_id(party.role)], [party.account.address]),
            sender=ledger.service_account, gas=400_000))
    for tx in sent:
        ledger.chain.wait(tx)
    sync_registry(ledger)


def capture_round(ledger, domain: SigningDomain, groups: dict[str, list[Party]]) -> int:
    stored = 0
    for stage in STAGES:
        for party in groups[stage]:
            if not party.events:
                continue
            document = epcis_document(party.events)
            signed = sign_document(document, party.account, domain)
            result = capture(engine=ledger.engine, domain=domain, submission=Submission(
                document=json.loads(json.dumps(document)), signer=party.account.address,
                nonce=int(signed.headers["TL-Nonce"]), signature=signed.headers["TL-Signature"]))
            assert result.state == "stored", result
            stored += len(party.events)
            party.events = []
    return stored


def refusals(ledger, domain: SigningDomain, shops: list[Party], rng: random.Random) -> int:
    refused = 0
    for n in range(REFUSALS):
        shop = rng.choice(shops)
        document = epcis_document([object_event(epcs=[item(DRUG, f"FAKE{n}")], action="ADD", biz_step="commissioning",
                                                disposition="active", location=shop.where)])
        signed = sign_document(document, shop.account, domain)
        try:
            capture(engine=ledger.engine, domain=domain, submission=Submission(
                document=json.loads(json.dumps(document)), signer=shop.account.address,
                nonce=int(signed.headers["TL-Nonce"]), signature=signed.headers["TL-Signature"]))
        except PolicyRefusedError:
            refused += 1
    return refused


def status_transactions(ledger, groups: dict[str, list[Party]], facts: dict, rng: random.Random) -> int:
    """Lots registered and recalled, dispensed packs decommissioned: sent pipelined, then awaited."""
    contract = ledger.contract(STATUS_CONTRACT)
    regulator = groups["regulator"][0].account
    lots = rng.sample(facts["lots"], REGISTERED_LOTS)
    sent = [ledger.chain.send(contract.functions.registerLot(key), sender=maker.account, gas=300_000)
            for maker, key in lots]
    for tx in sent:
        ledger.chain.wait(tx)
    sent = [ledger.chain.send(contract.functions.recall(key, "Contamination found in lot", bytes(32)), sender=regulator,
                              gas=300_000) for _, key in lots[:RECALLS]]
    for pharmacy, pack in rng.sample(facts["dispensed"], DECOMMISSIONS):
        sent.append(ledger.chain.send(contract.functions.decommission(
            subject_key(pack), int(PackStatus.DISPENSED), bytes(32)), sender=pharmacy.account, gas=300_000))
    for tx in sent:
        ledger.chain.wait(tx)
    return REGISTERED_LOTS + len(sent)


def build(settings: Settings, total_events: int) -> dict[str, list[Party]]:
    groups = parties()
    everyone = [p for members in groups.values() for p in members]
    rng = random.Random(11)
    facts: dict = {"lots": [], "dispensed": [], "rescans": 0, "rng_party": lambda kind: rng.choice(groups[kind])}
    init_data_dir(settings)
    with open_ledger(settings) as ledger:
        started = time.perf_counter()
        register_all(ledger, everyone)
        console.print(f"  {len(everyone):,} participants registered in {time.perf_counter() - started:.1f} s")
        domain = SigningDomain(ledger.chain.chain_id, ledger.manifest.contracts["ParticipantRegistry"])
        clock, made, n, captured = Clock(), 0, 0, 0
        started = time.perf_counter()
        while made < total_events:
            for _ in range(ROUND_UNITS):
                if made >= total_events:
                    break
                if n % 11 == 10:
                    food_unit(n, clock, {kind: rng.choice(groups[kind]) for kind in ("farm", "plant", "shop")})
                    made += FOOD_EVENTS
                else:
                    drug_unit(n, clock, {kind: rng.choice(groups[kind]) for kind in ("maker", "distributor", "pharmacy")},
                              rng, facts)
                    made += DRUG_EVENTS
                n += 1
            captured += capture_round(ledger, domain, groups)
            gc.collect()
        elapsed = time.perf_counter() - started
        console.print(f"  {captured:,} events captured in {elapsed:.1f} s ({captured / elapsed:,.0f} events/s, signing "
                      f"included); {facts['rescans']} dispensed packs recorded again")
        console.print(f"  {refusals(ledger, domain, groups['shop'], rng)} captures refused by the role policy")
        started = time.perf_counter()
        sent = status_transactions(ledger, groups, facts, rng)
        console.print(f"  {sent:,} status transactions ({REGISTERED_LOTS} lots registered, {RECALLS} recalled, "
                      f"{DECOMMISSIONS:,} packs decommissioned) in {time.perf_counter() - started:.1f} s")
    return groups


def wait_ready(url: str, settings: Settings) -> int:
    """Until the log is anchored and the status mirror has read the chain's head."""
    import sqlalchemy as sa

    engine = sa.create_engine(settings.index_url)
    with RpcChain(settings.rpc_url) as chain:
        head = chain.w3.eth.block_number
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                size = conn.execute(sa.text('SELECT COUNT(*) FROM "record"')).scalar_one()
                mirrored = conn.execute(sa.text("SELECT MIN(block_number) FROM contract_cursor")).scalar()
            latest = httpx.get(url + "/v1/checkpoints/latest", timeout=5)
            if latest.status_code == 200 and latest.json()["treeSize"] >= size and (mirrored or 0) >= head:
                return size
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise RuntimeError("the log was not anchored (or the mirrors not synced) within 300 s")


def batch_figures(settings: Settings) -> tuple[float, int, dict[str, int], list[str]]:
    with open_ledger(settings) as ledger:
        rules = load_rules()
        started = time.perf_counter()
        profiles = credit_profiles(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_ids=None,
                                   rules=rules)
        seconds = time.perf_counter() - started
        grades = {g: sum(p["grade"] == g for p in profiles) for g in "ABCD"}
        glns = [p["subject"]["gln"] for p in profiles]
        sample = random.Random(3).sample(glns, 100)
        started = time.perf_counter()
        for subject in sample:
            credit_profile(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=subject, rules=rules)
        single = (time.perf_counter() - started) / len(sample)
    console.print(f"  one by one: {single * 1000:.1f} ms per profile (100 random participants, credit_profile)")
    return seconds, len(profiles), grades, glns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per endpoint (after 2 s warm-up)")
    args = parser.parse_args()
    binary = anvil_binary()
    if binary is None:
        sys.exit("anvil not found: run `npm ci` (package @foundry-rs/anvil)")
    anvil = AnvilProcess(binary, "--gas-limit", "100000000")
    anvil.start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch) / "node"
            key = create_keystore(data_dir / "keystore" / "admin.json", PASSWORD)
            with RpcChain(anvil.url) as chain:
                fund(chain, key.address)
            settings = Settings(data_dir=data_dir, key_password=PASSWORD, rpc_url=anvil.url)
            console.print(f"[bold]build[/]: ~{args.events:,} events, 1,000 participants, anvil + SQLite")
            build(settings, args.events)
            process, url = serve(data_dir)
            try:
                size = wait_ready(url, settings)
                console.print(f"  server up at {url}; log of {size:,} records anchored, status mirror current")
                seconds, count, grades, glns = batch_figures(settings)
                paths = [f"/v1/participants/{g}/credit" for g in glns]
                sample = httpx.get(url + paths[0], timeout=30)
                assert sample.status_code == 200, sample.text
                console.print(f"  a profile: {len(sample.content) / 1024:.0f} KiB of JSON")
                load_before = os.getloadavg()[0]
                health = measured(process.pid, load(url, ["/healthz"], args.seconds, {}))
                credit = measured(process.pid, load(url, paths, args.seconds, {}))
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        anvil.stop()
    console.print(f"\n[bold]profiles of {count:,} participants in one snapshot[/]: {seconds:.2f} s in all, "
                  f"{seconds / count * 1000:.2f} ms per profile; grades {grades}")
    console.print(f"\n[bold]{CLIENTS} concurrent clients, {args.seconds:.0f} s each[/] "
                  f"({os.cpu_count()} CPUs; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")
    console.print(f"  {'endpoint':<34}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'server CPU ms/req':>19}")
    for name, result in (("GET /healthz", health), ("GET /v1/participants/{gln}/credit", credit)):
        console.print(f"  {name:<34}{result['rps']:>12,.0f}{result['p50']:>10.1f}{result['p99']:>10.1f}"
                      f"{result['count']:>10,}{result['cpu_ms']:>19.2f}")
    console.print(f"  profiles run at {credit['rps'] / health['rps']:.2f}x the /healthz ceiling; "
                  f"server CPU {credit['cpu_ms'] / health['cpu_ms']:.1f}x /healthz per request")


if __name__ == "__main__":
    main()
