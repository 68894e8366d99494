"""``traceledger demo``: the whole story on the embedded defaults, every step checked.

It initialises a data dir (service key, embedded chain, contracts, index),
appends a farm-to-table journey to the log, anchors a checkpoint on chain,
reads a record back as an evidence bundle and verifies it against the chain,
audits the index, then tampers with a copy of the index and shows the audit
catching it. Exit status 0 only if every step verified.
"""

from __future__ import annotations

import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from ledger.anchor.service import Anchorer
from ledger.audit import audit_log
from ledger.bootstrap import init_data_dir
from ledger.bundle import export_bundle, verify_bundle
from ledger.config import Settings
from ledger.index.db import create_index_engine
from ledger.records.append import NewRecord, append_records
from ledger.runtime import Ledger, open_ledger

PASSWORD_FILE = "demo-password"

FARM_TO_TABLE = [
    ("harvesting", "Green Valley Farm", "lot HV-2026-11 of 1,200 kg tomatoes harvested"),
    ("shipping", "Green Valley Farm", "lot HV-2026-11 shipped to Riverside Foods"),
    ("receiving", "Riverside Foods", "lot HV-2026-11 received at the processing plant"),
    ("transforming", "Riverside Foods", "lot HV-2026-11 processed into sauce lot RS-4471 (3,000 jars)"),
    ("shipping", "Riverside Foods", "sauce lot RS-4471 shipped to FreshMart"),
    ("retail_selling", "FreshMart", "sauce lot RS-4471 on sale"),
]


@dataclass
class StepResult:
    name: str
    ok: bool
    detail: str
    seconds: float


class Narrative:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.results: list[StepResult] = []

    def step(self, name: str, action: Callable[[], str]) -> bool:
        """Run one step; a step fails by raising or by returning a detail starting with 'FAILED'."""
        self.console.print(f"[bold cyan]▶ {name}[/]")
        started = time.perf_counter()
        try:
            detail = action()
            ok = not detail.startswith("FAILED")
        except Exception as exc:  # the demo reports every failure, then exits non-zero
            detail, ok = f"FAILED: {type(exc).__name__}: {exc}", False
        seconds = time.perf_counter() - started
        self.results.append(StepResult(name, ok, detail, seconds))
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"  {mark} {detail}", highlight=False)
        return ok

    def summary(self) -> Table:
        table = Table(title="traceledger demo")
        table.add_column("step")
        table.add_column("verified", justify="center")
        table.add_column("seconds", justify="right")
        for result in self.results:
            table.add_row(result.name, "[green]yes[/]" if result.ok else "[red]NO[/]", f"{result.seconds:.2f}")
        return table


def run_demo(*, data_dir: Path | None = None, console: Console) -> bool:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="traceledger-demo-"))
    password_file = data_dir.parent / f"{data_dir.name}-{PASSWORD_FILE}"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password_file.chmod(0o600)
    settings = Settings(data_dir=data_dir, key_password_file=password_file, rpc_url=None, database_url=None)
    story = Narrative(console)
    console.print(f"[bold]traceledger demo[/] in {data_dir}")

    if not story.step("initialise the data dir", lambda: init_data_dir(settings).summary().replace("\n", " ")):
        return _finish(story, console, data_dir, password_file)
    with open_ledger(settings) as ledger:
        anchorer = Anchorer(engine=ledger.engine, chain=ledger.chain, anchor=ledger.contract("CheckpointAnchor"),
                            sender=ledger.service_account)
        story.step("record a farm-to-table journey", lambda: _record_journey(ledger))
        story.step("anchor a checkpoint on chain", lambda: _anchor(anchorer))
        story.step("read a record back and verify it against the chain", lambda: _read_back(ledger))
        story.step("audit the index", lambda: _audit(ledger, ledger.engine))
        story.step("tamper with a copy of the index: audit must catch it", lambda: _tamper_and_audit(ledger, data_dir))
    return _finish(story, console, data_dir, password_file)


def _record_journey(ledger: Ledger) -> str:
    records = [
        NewRecord("demo.step", {"bizStep": step, "actor": actor, "what": what, "sequence": i})
        for i, (step, actor, what) in enumerate(FARM_TO_TABLE)
    ]
    appended = append_records(ledger.engine, records)
    return f"{len(appended)} records appended as log leaves {appended[0].index}..{appended[-1].index}"


def _anchor(anchorer: Anchorer) -> str:
    checkpoint = anchorer.anchor_once(force=True)
    latest = anchorer.chain_latest()
    if checkpoint is None and latest.tree_size == 0:
        return "FAILED: nothing was anchored"
    size = checkpoint.tree_size if checkpoint else latest.tree_size
    where = f" in block {checkpoint.block_number}, tx {checkpoint.tx_hash[:18]}…" if checkpoint else ""
    return f"checkpoint of {size} records anchored{where}"


def _read_back(ledger: Ledger) -> str:
    with Session(ledger.engine) as session:
        bundle = export_bundle(session, 3)
    verdict = verify_bundle(bundle, ledger.chain)
    return verdict.summary()


def _audit(ledger: Ledger, engine: sa.Engine) -> str:
    report = audit_log(engine, ledger.chain, ledger.contract("CheckpointAnchor"))
    if not report.ok:
        return "FAILED: " + "; ".join(str(d) for d in report.discrepancies)
    return f"{report.records} records, {report.checkpoints_on_chain} checkpoint(s): all hold"


def _tamper_and_audit(ledger: Ledger, data_dir: Path) -> str:
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
            conn.execute(sa.text("""UPDATE record SET body = replace(body, '1,200 kg', '2,400 kg') WHERE "index" = 0"""))
        report = audit_log(engine, ledger.chain, ledger.contract("CheckpointAnchor"))
    finally:
        engine.dispose()
    caught = [str(d) for d in report.discrepancies if d.subject == "record 0"]
    if not caught:
        return "FAILED: the audit did not notice the edited record"
    return f"caught: {caught[0]}"


def _finish(story: Narrative, console: Console, data_dir: Path, password_file: Path) -> bool:
    console.print(story.summary())
    ok = all(r.ok for r in story.results)
    console.print(f"data left in {data_dir}")
    console.print(f"inspect it: TRACELEDGER_KEY_PASSWORD_FILE={password_file} traceledger status --data-dir {data_dir}")
    console.print("[bold green]every step verified[/]" if ok else "[bold red]some steps did not verify[/]")
    return ok

