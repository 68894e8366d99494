"""``traceledger demo``: the whole story on the embedded defaults, every step checked.

1. a data dir is initialised (service key, embedded chain, contracts, index),
   the consortium's participants are registered on chain, each with its own
   keystore; customs lists two traders on the whitelist and revokes one;
   the producers register their lots on chain (so that they may recall them);
2. the API is served on a local port, and every participant records its
   events through it as signed EPCIS 2.0 captures (the Python client): a
   farm-to-table journey, drug packs from the lab to the hospital, and two
   export declarations: one cleared by customs, one refused because the
   trader's listing was revoked; a capture the role policy forbids is refused;
3. the pharmacy records the dispensing of a pack on chain (a second
   dispensing is refused), and the regulator recalls the tomato lot;
4. served again: the dispensed pack scanned again says so, the sauce made
   from the recalled tomatoes shows the recall and who holds it; the log is
   anchored; QR labels and the consumer page are written to the output folder;
5. with the server stopped: one label is scanned and its trace verified
   against the chain alone, an event's evidence is verified, the index is
   audited, and a tampered copy of the index is caught.

Exit status 0 only if every step verified.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from ledger.audit import audit_index
from ledger.bootstrap import init_data_dir
from ledger.bundle import verify_bundle
from ledger.client import ClientError, LedgerClient, epcis_document
from ledger.config import Settings
from ledger.crossborder.convention import crossborder_document, customs_clearance, export_declaration
from ledger.epcis.build import aggregation_event, gln, gtin, item, lot, object_event, sscc, transformation_event
from ledger.epcis.identifiers import DIGITAL_LINK_HOST
from ledger.index.db import create_index_engine
from ledger.keystore import create_keystore, load_keystore
from ledger.participants.indexer import participant_by_gln
from ledger.participants.service import register_participant
from ledger.runtime import open_ledger
from ledger.status.errors import StatusStateError
from ledger.status.service import decommission, read_statuses, recall, register_lot
from ledger.status.subjects import CONTRACT_NAME as STATUS_CONTRACT
from ledger.status.subjects import PackStatus, subject_key
from ledger.whitelist.model import SCOPES, CreditLevel, EntryContent
from ledger.whitelist.queries import save_name
from ledger.whitelist.service import Whitelist
from scanner.decode import read_identifier
from scanner.fetch import FetchError, TraceApi
from scanner.labels import label_png, label_sheet, label_svg
from scanner.verify import ChainReader, TrustedContracts, verify_trace

PASSWORD_FILE = "demo-password"

PARTICIPANTS = {
    "farm": ("952100000001", "Green Valley Farm", "PRODUCER"),
    "plant": ("952100000002", "Riverside Foods", "PROCESSOR"),
    "carrier": ("952100000003", "Swift Logistics", "DISTRIBUTOR"),
    "shop": ("952100000004", "FreshMart Central", "RETAILER"),
    "lab": ("952100000005", "Lab Pharma", "MANUFACTURER"),
    "pharmacy": ("952100000006", "City Hospital Pharmacy", "DISPENSER"),
    "regulator": ("952100000007", "Food and Drug Authority", "REGULATOR"),
    "customs": ("952100000008", "Harbour Customs", "CUSTOMS"),
}
TRADERS = {"listed": "91350200776049653A", "revoked": "91440101MA5CJQ4N59"}
"""Two published unified social credit codes (their check characters verify)."""
TRADER_NAMES = {"listed": "Riverside Foods Export Co.", "revoked": "Harbour Grey Trading Ltd"}
TOMATOES = gtin("0952100000010")
SAUCE = gtin("0952100000027")
DRUG = gtin("0952100000034")
TOMATO_LOT = lot(TOMATOES, "HV-2026-11")
SAUCE_LOT = lot(SAUCE, "RS-4471")
EXPORT_LOT = lot(SAUCE, "RS-4472")
DRUG_LOT = lot(DRUG, "LOT-2026-11")
PACKS = [item(DRUG, f"PK{n:04d}") for n in range(1, 4)]


@dataclass
class StepResult:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Story:
    """Runs the steps, prints the narrative, remembers what each produced."""

    console: Console
    results: list[StepResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str, action: Callable[[], str]) -> bool:
        """A step fails by raising, or by returning a detail starting with 'FAILED'."""
        self.console.print(f"[bold cyan]▶ {name}[/]")
        started = time.perf_counter()
        try:
            detail = action()
            ok = not detail.startswith("FAILED")
        except Exception as exc:  # the demo reports every failure, then exits non-zero
            detail, ok = f"FAILED: {type(exc).__name__}: {exc}", False
        self.results.append(StepResult(name, ok, detail, time.perf_counter() - started))
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"  {mark} {detail}", highlight=False)
        return ok

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def summary(self) -> Table:
        table = Table(title="traceledger demo")
        table.add_column("step")
        table.add_column("verified", justify="center")
        table.add_column("seconds", justify="right")
        for result in self.results:
            table.add_row(result.name, "[green]yes[/]" if result.ok else "[red]NO[/]", f"{result.seconds:.2f}")
        return table


class LocalServer:
    """The real API on a free local port, in a thread of this process."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        os.environ["TRACELEDGER_DATA_DIR"] = str(settings.data_dir)
        os.environ["TRACELEDGER_KEY_PASSWORD_FILE"] = str(settings.key_password_file)
        os.environ.setdefault("TRACELEDGER_ANCHOR_MAX_DELAY", "0.5")
        # By import string: the ledger package never imports the API.
        config = uvicorn.Config("api.app:create_app", factory=True, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="demo-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API did not start (see the log above)")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


def run_demo(*, data_dir: Path | None = None, out_dir: Path | None = None, console: Console) -> bool:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="traceledger-demo-"))
    out_dir = out_dir or data_dir / "out"
    password_file = data_dir.parent / f"{data_dir.name}-{PASSWORD_FILE}"
    if not password_file.exists():
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password_file.chmod(0o600)
    settings = Settings(data_dir=data_dir, key_password_file=password_file, rpc_url=None, database_url=None)
    story = Story(console)
    story.facts["out"] = out_dir
    console.print(f"[bold]traceledger demo[/] in {data_dir}")

    if not story.step("initialise the data dir", lambda: init_data_dir(settings).summary().replace("\n", " ")):
        return _finish(story, console, data_dir, password_file)
    keys: dict[str, LocalAccount] = {}
    if not story.step("register the consortium on chain", lambda: _register(settings, keys)):
        return _finish(story, console, data_dir, password_file)
    with open_ledger(settings) as ledger:
        story.step("customs lists two traders on the whitelist, revokes one", lambda: _whitelist(ledger, keys, story))
        story.step("producers register their lots on chain", lambda: _register_lots(ledger, keys))

    with LocalServer(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        console.print(f"  [dim]API serving at {server.url}[/]")
        clients = {party: LedgerClient(account=key, http=http) for party, key in keys.items()}
        story.step("farm to table: harvest, ship, process, sell", lambda: _farm_to_table(clients, story))
        story.step("lab to hospital: commission, pack, ship, dispense", lambda: _lab_to_hospital(clients, story))
        story.step("export declarations: cleared for a listed trader, refused for a revoked one",
                   lambda: _crossborder(clients, story))
        story.step("a carrier tries to commission goods: refused", lambda: _refused(clients))
        story.step("query: the history of a dispensed pack", lambda: _pack_history(clients["pharmacy"], story))

    with open_ledger(settings) as ledger:
        story.step("the pharmacy records the dispensing on chain; a second one is refused",
                   lambda: _dispense_on_chain(ledger, keys, story))
        story.step("the regulator recalls the tomato lot on chain", lambda: _recall(ledger, keys, story))

    with LocalServer(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        console.print(f"  [dim]API serving again at {server.url}[/]")
        story.step("the dispensed pack is scanned again: already dispensed", lambda: _scan_again(http, story))
        story.step("the sauce shows the recall of its tomatoes; who holds it", lambda: _recall_seen(http, story))
        story.step("anchor the log on chain, fetch an event's evidence", lambda: _anchor_and_fetch(http, story))
        story.step("write QR labels and the consumer page", lambda: _labels_and_page(http, story))

    with open_ledger(settings) as ledger:
        story.step("scan a label: verify its trace against the chain alone", lambda: _scan_label(ledger, story))
        story.step("verify the evidence against the chain alone", lambda: _verify(ledger, story))
        story.step("audit the index", lambda: _audit(ledger, ledger.engine))
        story.step("tamper with a copy of the index: audit must catch it", lambda: _tamper_and_audit(ledger, data_dir))
    return _finish(story, console, data_dir, password_file)


def _register(settings: Settings, keys: dict[str, LocalAccount]) -> str:
    password = settings.key_password_file.read_text(encoding="utf-8").splitlines()[0]  # type: ignore[union-attr]
    with open_ledger(settings) as ledger:
        for party, (gln_body, name, role) in PARTICIPANTS.items():
            key_file = settings.keystore_dir / f"{gln(gln_body)}.json"
            keys[party] = load_keystore(key_file, password) if key_file.exists() else create_keystore(key_file, password)
            with Session(ledger.engine) as session:
                known = participant_by_gln(session, gln(gln_body))
            if known is None:
                register_participant(ledger, gln=gln(gln_body), name=name, roles=[role], keys=[keys[party].address])
    return f"{len(PARTICIPANTS)} organisations, one keystore each in {settings.keystore_dir}"


def _stored(result: dict[str, Any]) -> int:
    if result["state"] != "stored":
        raise RuntimeError(f"capture {result['captureID']} is {result['state']}")
    return len(result["events"])


def _farm_to_table(clients: dict[str, LedgerClient], story: Story) -> str:
    farm, plant, shop = gln(PARTICIPANTS["farm"][0]), gln(PARTICIPANTS["plant"][0]), gln(PARTICIPANTS["shop"][0])
    harvest, sauce = TOMATO_LOT, SAUCE_LOT
    count = _stored(clients["farm"].capture(epcis_document([
        object_event(quantities=[(harvest, 1200, "KGM")], action="ADD", biz_step="commissioning", disposition="active", location=farm),
        object_event(quantities=[(harvest, 1200, "KGM")], biz_step="shipping", disposition="in_transit", location=farm),
    ])))
    count += _stored(clients["plant"].capture(epcis_document([
        object_event(quantities=[(harvest, 1200, "KGM")], biz_step="receiving", disposition="in_progress", location=plant),
        transformation_event(inputs=[(harvest, 1200, "KGM")], outputs=[(sauce, 3000, None)], location=plant),
        object_event(quantities=[(sauce, 3000, None)], biz_step="shipping", disposition="in_transit", location=plant),
    ])))
    count += _stored(clients["shop"].capture(epcis_document([
        object_event(quantities=[(sauce, 3000, None)], biz_step="receiving", disposition="sellable_accessible", location=shop),
        object_event(quantities=[(sauce, 3000, None)], biz_step="retail_selling", disposition="retail_sold", location=shop),
    ])))
    story.facts["sauce_lot"] = sauce
    return f"{count} signed events by farm, plant and shop: tomato lot {harvest.rsplit('/', 1)[-1]} became sauce lot RS-4471"


def _lab_to_hospital(clients: dict[str, LedgerClient], story: Story) -> str:
    lab, pharmacy = gln(PARTICIPANTS["lab"][0]), gln(PARTICIPANTS["pharmacy"][0])
    packs = PACKS
    case, pallet = sscc("09521000000000001"), sscc("09521000000000002")
    count = _stored(clients["lab"].capture(epcis_document([
        object_event(epcs=packs, action="ADD", biz_step="commissioning", disposition="active", location=lab),
        aggregation_event(parent=case, children=packs, location=lab),
        aggregation_event(parent=pallet, children=[case], location=lab),
        object_event(epcs=[pallet], biz_step="shipping", disposition="in_transit", location=lab),
    ])))
    dispensed = _stored(clients["pharmacy"].capture(epcis_document([
        object_event(epcs=[pallet], biz_step="receiving", disposition="in_progress", location=pharmacy),
        aggregation_event(parent=case, children=packs, action="DELETE", biz_step="unpacking", location=pharmacy),
        object_event(epcs=[packs[0]], biz_step="dispensing", disposition="dispensed", location=pharmacy),
    ])))
    story.facts["dispensed_pack"] = packs[0]
    return f"{count + dispensed} signed events: 3 packs in a case on a pallet, shipped, unpacked, pack PK0001 dispensed"


def _whitelist(ledger: Any, keys: dict[str, LocalAccount], story: Story) -> str:
    whitelist, officer, now = Whitelist.from_ledger(ledger), keys["customs"], int(time.time())
    for role, code in TRADERS.items():
        if whitelist.entry(code).version:
            continue  # listed by an earlier run on this data dir
        whitelist.set_entry(EntryContent(
            code, CreditLevel.ADVANCED_CERTIFIED, SCOPES["OFFSHORE_TRADE"] | SCOPES["EXPEDITED_CLEARANCE"],
            now - 86_400, now + 365 * 86_400, hashlib.sha256(f"AEO audit dossier of {code}".encode()).digest(),
        ), sender=officer)
        save_name(ledger.engine, code, TRADER_NAMES[role])
        if role == "revoked":
            whitelist.revoke(code, "smuggling conviction (case 2026-0420)", sender=officer)
    story.facts["chain_time"] = whitelist.latest_block().timestamp
    return (f"{TRADER_NAMES['listed']} ({TRADERS['listed']}) holds EXPEDITED_CLEARANCE; "
            f"{TRADER_NAMES['revoked']} ({TRADERS['revoked']}) was revoked")


def _register_lots(ledger: Any, keys: dict[str, LocalAccount]) -> str:
    contract, owned = ledger.contract(STATUS_CONTRACT), []
    for party, lot_uri in (("farm", TOMATO_LOT), ("lab", DRUG_LOT)):
        key = subject_key(lot_uri)
        if read_statuses(chain=ledger.chain, contract=contract, keys=[key])[key].owner is None:
            register_lot(chain=ledger.chain, contract=contract, sender=keys[party], key=key)
        owned.append(f"{PARTICIPANTS[party][1]}: {key}")
    return "; ".join(owned)


def _crossborder(clients: dict[str, LedgerClient], story: Story) -> str:
    plant, customs = gln(PARTICIPANTS["plant"][0]), gln(PARTICIPANTS["customs"][0])
    shipment = [(EXPORT_LOT, 800, None)]
    claims = ["EXPEDITED_CLEARANCE"]
    # Claims are judged at the event's time against the listing's block time; the embedded chain's
    # clock (one second or more per block) runs ahead of the wall clock.
    when = datetime.fromtimestamp(max(time.time(), story.facts["chain_time"]) + 1, UTC)
    declared = _stored(clients["plant"].capture(crossborder_document([export_declaration(
        declaration="531620261129000001", trader=TRADERS["listed"], claims=claims, quantities=shipment,
        location=plant, exporter=plant, when=when)])))
    cleared = _stored(clients["customs"].capture(crossborder_document([customs_clearance(
        declaration="531620261129000001", trader=TRADERS["listed"], claims=claims, quantities=shipment,
        cleared_by=customs, location=customs, when=when)])))
    try:
        clients["plant"].capture(crossborder_document([export_declaration(
            declaration="531620261129000002", trader=TRADERS["revoked"], claims=claims, quantities=shipment,
            location=plant, exporter=plant, when=when)]))
    except ClientError as refused:
        if refused.status == 403 and "revoked" in str(refused.body.get("detail")):
            return (f"declaration 531620261129000001: {declared} declaration and {cleared} clearance by "
                    f"{PARTICIPANTS['customs'][1]} stored; "
                    f"the revoked trader's refused: {refused.body['detail']}")
        raise
    return "FAILED: a declaration claiming a revoked trader's scope was accepted"


def _refused(clients: dict[str, LedgerClient]) -> str:
    attempt = object_event(epcs=[item(DRUG, "FAKE-1")], action="ADD", biz_step="commissioning",
                           location=gln(PARTICIPANTS["carrier"][0]))
    try:
        clients["carrier"].capture(epcis_document([attempt]))
    except ClientError as refused:
        if refused.status == 403:
            return f"403: {refused.body['detail']}"
        raise
    return "FAILED: the carrier was allowed to commission goods"


def _pack_history(pharmacy: LedgerClient, story: Story) -> str:
    pack = story.facts["dispensed_pack"]
    body = pharmacy.events(MATCH_anyEPC=pack)
    events = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    steps = [e.get("bizStep", e["type"]) for e in events]
    if not steps or steps[-1] != "dispensing":
        return f"FAILED: the pack's history does not end dispensed: {steps}"
    story.facts["dispense_log_index"] = events[-1]["tl:logIndex"]
    return "PK0001: " + " → ".join(steps)


def _dispense_on_chain(ledger: Any, keys: dict[str, LocalAccount], story: Story) -> str:
    contract, pack = ledger.contract(STATUS_CONTRACT), subject_key(story.facts["dispensed_pack"])
    if read_statuses(chain=ledger.chain, contract=contract, keys=[pack])[pack].pack_status is PackStatus.NONE:
        decommission(chain=ledger.chain, contract=contract, sender=keys["pharmacy"], key=pack,
                     status=PackStatus.DISPENSED)
    try:
        decommission(chain=ledger.chain, contract=contract, sender=keys["pharmacy"], key=pack,
                     status=PackStatus.DISPENSED)
    except StatusStateError as refused:
        return f"{pack} dispensed on chain; again: {refused.message}"
    return "FAILED: the contract let a pack be dispensed twice"


RECALL_NOTICE = "Salmonella found in field 7 samples (lab report 2026-118): do not eat"


def _recall(ledger: Any, keys: dict[str, LocalAccount], story: Story) -> str:
    contract, tomatoes = ledger.contract(STATUS_CONTRACT), subject_key(TOMATO_LOT)
    if not read_statuses(chain=ledger.chain, contract=contract, keys=[tomatoes])[tomatoes].recalled:
        receipt = recall(chain=ledger.chain, contract=contract, sender=keys["regulator"], key=tomatoes,
                         notice=RECALL_NOTICE, reason_hash=hashlib.sha256(b"lab report 2026-118").digest())
        return f"{tomatoes} recalled in block {receipt['blockNumber']}: {RECALL_NOTICE}"
    return f"{tomatoes} already recalled"


def _mirrored(http: httpx.Client, path: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The JSON trace of ``path`` once ``ready`` holds for its status (the server mirrors the chain each second)."""
    deadline = time.monotonic() + 30
    while True:
        response = http.get(path, headers={"Accept": "application/json"})
        response.raise_for_status()
        trace = response.json()
        if ready(trace.get("status") or {}) or time.monotonic() > deadline:
            return trace
        time.sleep(0.2)


def _scan_again(http: httpx.Client, story: Story) -> str:
    pack = subject_key(story.facts["dispensed_pack"])
    pack_status = _mirrored(http, pack, lambda status: bool(status.get("pack")))["status"]["pack"]
    if not pack_status or pack_status["status"] != "dispensed":
        return f"FAILED: the scan of {pack} does not say it was dispensed"
    return (f"{pack}: ALREADY DISPENSED by {pack_status['byName']} at {pack_status['at']} "
            f"(block {pack_status['blockNumber']}): a second sale would be a diversion")


def _recall_seen(http: httpx.Client, story: Story) -> str:
    sauce, tomatoes = subject_key(SAUCE_LOT), subject_key(TOMATO_LOT)
    recalls = _mirrored(http, sauce, lambda status: bool(status.get("recalls")))["status"]["recalls"]
    if [(r["key"], r["relation"]) for r in recalls] != [(tomatoes, "input")]:
        return f"FAILED: the sauce lot does not show the recall of its tomatoes: {recalls}"
    impact = http.get(f"/v1/trace/downstream{tomatoes}")
    impact.raise_for_status()
    holders = [f"{h['participant']['name'] if h['participant'] else h['participantId']} "
               f"({', '.join(h['dispositions'])})" for h in impact.json()["holders"]]
    return f"sauce {sauce} shows the recall of ingredient {tomatoes}; affected goods last held by: {'; '.join(holders)}"


def _anchor_and_fetch(http: httpx.Client, story: Story) -> str:
    index = story.facts["dispense_log_index"]
    deadline = time.monotonic() + 30
    while True:
        latest = http.get("/v1/checkpoints/latest")
        if latest.status_code == 200 and latest.json()["treeSize"] > index:
            break
        if time.monotonic() > deadline:
            return "FAILED: no checkpoint covered the events within 30 s"
        time.sleep(0.1)
    evidence = http.get(f"/v1/records/{index}/evidence")
    evidence.raise_for_status()
    story.facts["evidence"] = evidence.json()
    checkpoint = latest.json()
    return f"checkpoint of {checkpoint['treeSize']} records in block {checkpoint['blockNumber']}; evidence of record {index} fetched"


def _labels_and_page(http: httpx.Client, story: Story) -> str:
    out: Path = story.facts["out"]
    labels = out / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    sauce_link = DIGITAL_LINK_HOST + subject_key(SAUCE_LOT)
    (labels / "sauce-lot.png").write_bytes(label_png(sauce_link, caption="Riverside tomato sauce"))
    (labels / "sauce-lot.svg").write_text(label_svg(sauce_link, caption="Riverside tomato sauce"), encoding="utf-8")
    pack_links = [DIGITAL_LINK_HOST + subject_key(pack) for pack in PACKS]
    (labels / "drug-packs.pdf").write_bytes(label_sheet(pack_links, columns=3, fmt="pdf"))
    for lang in ("en", "zh"):
        page = http.get(subject_key(SAUCE_LOT), params={"lang": lang}, headers={"Accept": "text/html"})
        page.raise_for_status()
        (out / f"sauce-lot.{lang}.html").write_text(page.text, encoding="utf-8")
    # The scan below runs with the server stopped (the embedded chain is then free): fetch what it will read.
    api = TraceApi(http=http)
    identifier = read_identifier(labels / "sauce-lot.png")
    deadline = time.monotonic() + 10
    trace = api.trace(identifier)
    while not all(event["anchored"] for event in trace["events"]) and time.monotonic() < deadline:
        time.sleep(0.2)  # traces re-read the newest checkpoint twice a second
        trace = api.trace(identifier)
    captures = {orjson.loads(e["record"]["body"]).get("captureRecord") for e in trace["events"] if e.get("record")}
    story.facts["scan"] = (identifier, trace, {i: api.record_evidence(i) for i in captures if isinstance(i, int)})
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())
    return f"{len(written)} files in {out}: {', '.join(written)}"


def _scan_label(ledger: Any, story: Story) -> str:
    identifier, trace, bundles = story.facts["scan"]
    manifest = ledger.manifest
    trusted = TrustedContracts(
        anchor=manifest.contracts["CheckpointAnchor"], status=manifest.contracts["ProductStatus"],
        chain_id=manifest.chain_id, registry=manifest.contracts["ParticipantRegistry"],
        from_block=manifest.deployed_block, source=str(ledger.settings.data_dir),
    )

    def evidence(index: int) -> Any:
        if index not in bundles:
            raise FetchError(f"record {index} was not fetched")
        return bundles[index]

    verdict = verify_trace(trace, scanned_key=identifier.canonical, chain=ChainReader(ledger.chain, trusted),
                           evidence=evidence)
    (story.facts["out"] / "scan-verdict.json").write_bytes(orjson.dumps(verdict.to_json(), option=orjson.OPT_INDENT_2))
    if verdict.status != "VERIFIED" or not verdict.warnings:
        return f"FAILED: {verdict.headline}"
    return f"{verdict.headline}: {len(verdict.journey)} steps; {verdict.warnings[0].describe()}"


def _verify(ledger: Any, story: Story) -> str:
    return verify_bundle(story.facts["evidence"], ledger.chain).summary()


def _audit(ledger: Any, engine: sa.Engine) -> str:
    report = audit_index(ledger, engine=engine)
    if not report.ok:
        return "FAILED: " + "; ".join(str(d) for d in report.discrepancies)
    return (f"{report.records} records, {report.checkpoints_on_chain} checkpoint(s), "
            f"{report.projection_rows} derived rows re-derived from the log: all hold")


def _tamper_and_audit(ledger: Any, data_dir: Path) -> str:
    copy = data_dir / "tampered-index.sqlite"
    copy.unlink(missing_ok=True)
    source = sqlite3.connect(ledger.engine.url.database)
    try:
        source.execute("VACUUM INTO ?", (str(copy),))  # a consistent snapshot, WAL included
    finally:
        source.close()
    engine = create_index_engine(f"sqlite:///{copy}")
    try:
        with engine.begin() as conn:
            original, forged = '"quantity":1200', '"quantity":2400'
            target = conn.execute(sa.text('SELECT "index" FROM record WHERE body LIKE :p ORDER BY "index" LIMIT 1'),
                                  {"p": f"%{original}%"}).scalar_one()
            conn.execute(sa.text('UPDATE record SET body = replace(body, :a, :b) WHERE "index" = :i'),
                         {"a": original, "b": forged, "i": target})
            # A quieter forgery: the record stays intact, only the current location the consumer page shows moves.
            moved = conn.execute(sa.text("SELECT epc FROM trace_state WHERE location IS NOT NULL ORDER BY epc LIMIT 1")).scalar_one()
            conn.execute(sa.text("UPDATE trace_state SET location = :l WHERE epc = :e"),
                         {"l": "https://id.gs1.org/414/9521000000999", "e": moved})
        report = audit_index(ledger, engine=engine)
    finally:
        engine.dispose()
    named = {d.subject for d in report.discrepancies}
    missed = [what for what, subject in (("the edited harvest quantity", f"record {target}"),
                                         ("the moved current location", f"trace_state {moved}")) if subject not in named]
    if missed:
        return "FAILED: the audit did not notice " + " nor ".join(missed)
    return f"harvest quantity doubled (record {target}) and {moved} moved in the copy; both caught and named"


def _finish(story: Story, console: Console, data_dir: Path, password_file: Path) -> bool:
    console.print(story.summary())
    console.print(f"data left in {data_dir}; labels, pages and the scan verdict in {story.facts['out']}")
    console.print(f"inspect it: TRACELEDGER_KEY_PASSWORD_FILE={password_file} traceledger audit --data-dir {data_dir}")
    console.print("[bold green]every step verified[/]" if story.ok else "[bold red]some steps did not verify[/]")
    return story.ok
