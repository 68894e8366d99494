"""The ``traceledger`` command.

Every command takes ``--data-dir`` (default ``TRACELEDGER_DATA_DIR``, else a
per-user data dir). Expected failures (``LedgerError``) print one line naming
the cause and exit 1; nothing prints a traceback for a user's mistake.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

from ledger.config import Settings, describe_invalid_settings
from ledger.credit.cli import app as credit_app
from ledger.errors import LedgerError
from ledger.participants.cli import participant_app
from ledger.status.cli import app as product_app
from ledger.whitelist.cli import app as whitelist_app
from scanner.cli import qr as qr_command
from scanner.cli import scan as scan_command

app = typer.Typer(
    name="traceledger",
    help="Traceability ledger: signed supply-chain events, a Merkle log anchored on chain, QR trace lookups.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts_app = typer.Typer(help="Build the Solidity contracts into the committed artifacts.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
proof_app = typer.Typer(help="Evidence bundles: one file that proves one record.", no_args_is_help=True)
app.add_typer(proof_app, name="proof")
app.add_typer(whitelist_app, name="whitelist")
app.add_typer(participant_app, name="participant")
app.add_typer(product_app, name="product")
app.add_typer(credit_app, name="credit")
app.command("qr")(qr_command)
app.command("scan")(scan_command)

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DataDirOption = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Data directory (default: TRACELEDGER_DATA_DIR, else a per-user dir).", show_default=False),
]
RpcUrlOption = Annotated[
    Optional[str],
    typer.Option("--rpc-url", help="JSON-RPC URL of an EVM node (default: TRACELEDGER_RPC_URL, else the embedded chain).", show_default=False),
]


def settings_for(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line options on top."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


@app.command()
def init(data_dir: DataDirOption = None, rpc_url: RpcUrlOption = None) -> None:
    """Create a data dir: service key, chain, deployed contracts, index. Safe to re-run."""
    from ledger.bootstrap import init_data_dir

    settings = settings_for(data_dir, rpc_url=rpc_url)
    report = init_data_dir(settings, console=console)
    console.print(report.summary())


@app.command()
def status(data_dir: DataDirOption = None) -> None:
    """Show the data dir's chain, contracts and index."""
    from ledger.runtime import open_ledger

    settings = settings_for(data_dir)
    with open_ledger(settings) as ledger:
        console.print(f"data dir   {settings.data_dir}")
        console.print(f"chain      {ledger.chain.description} (id {ledger.chain.chain_id}, block {ledger.chain.w3.eth.block_number})")
        for name, address in ledger.manifest.contracts.items():
            console.print(f"contract   {name} {address}")
        console.print(f"index      {settings.index_url}")


@app.command()
def demo(
    data_dir: DataDirOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the QR labels, pages and scan verdict (default: DATA_DIR/out).", show_default=False)] = None,
) -> None:
    """Run the whole scenario on the embedded defaults and verify every step."""
    from ledger.demo import run_demo

    ok = run_demo(data_dir=data_dir, out_dir=out, console=console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def serve(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API and anchor checkpoints in the background."""
    import os

    import uvicorn

    from ledger.runtime import open_ledger

    settings = settings_for(data_dir)
    # Fail here, with a one-line reason, rather than inside the server's startup.
    with open_ledger(settings) as ledger:
        if settings.anchor_enabled:
            ledger.service_account  # noqa: B018 (decrypts now: a wrong password stops here)
    os.environ["TRACELEDGER_DATA_DIR"] = str(settings.data_dir)
    from ledger.logs import configure_logging

    configure_logging(settings.log_format)  # uvicorn's records too (log_config=None); access lines come from the app
    # The app is named by import string: the ledger package never imports the API.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info", log_config=None, access_log=False)


@app.command()
def audit(
    data_dir: DataDirOption = None,
    log_only: Annotated[bool, typer.Option("--log-only", help="Check the log and checkpoints only: skip the tables "
                                                              "derived from the log and the contract mirrors.")] = False,
) -> None:
    """Re-check every record, the tree, every checkpoint, the tables derived from the log and the contract mirrors; exit 1 on any discrepancy."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table
    from sqlalchemy import func, select

    from ledger.audit import audit_index
    from ledger.capture.projection import EVENT_KIND
    from ledger.records.models import Record
    from ledger.runtime import open_ledger

    settings = settings_for(data_dir)
    with open_ledger(settings) as ledger:
        assert ledger.engine is not None
        with ledger.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(Record)).scalar_one()
            events = conn.execute(select(func.count()).select_from(Record).where(Record.kind == EVENT_KIND)).scalar_one()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            log_task = progress.add_task("log: records", total=total)
            projection_task = progress.add_task("derived tables: events", total=events, visible=not log_only)
            report = audit_index(
                ledger, projections=not log_only, mirrors=not log_only,
                log_progress=lambda done: progress.update(log_task, completed=done),
                projection_progress=lambda done: progress.update(projection_task, completed=done),
            )
    table = Table(title="audit", show_header=False)
    table.add_row("records re-hashed", f"{report.records:,}")
    table.add_row("checkpoints on chain", f"{report.checkpoints_on_chain:,} (anchored size {report.anchored_size:,})")
    table.add_row("not yet anchored", f"{max(report.records - report.anchored_size, 0):,}")
    table.add_row("throughput", f"{report.records_per_second:,.0f} records/s in {report.seconds:.2f}s")
    skipped = "[yellow]not checked (--log-only)[/]"
    table.add_row("derived tables", f"{report.projection_rows:,} rows re-derived from the log and compared in "
                                    f"{report.projection_seconds:.2f}s" if report.projections_audited else skipped)
    table.add_row("contract mirrors", f"{report.mirror_rows:,} rows rebuilt from the chain's events and compared in "
                                      f"{report.mirror_seconds:.2f}s" if report.mirrors_audited else skipped)
    table.add_row("verdict", "[green]all holds[/]" if report.ok else f"[red]{len(report.discrepancies)} discrepancies[/]")
    console.print(table)
    for discrepancy in report.discrepancies:
        console.print(f"[red]✗[/] {discrepancy}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@proof_app.command("export")
def proof_export(
    index: Annotated[int, typer.Argument(help="Record (leaf) index.", min=0)],
    data_dir: DataDirOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default: evidence-<index>.json).")] = None,
) -> None:
    """Write the evidence bundle of one record: record, leaf, inclusion proof, checkpoint, chain reference."""
    import json

    from sqlmodel import Session

    from ledger.bundle import export_bundle
    from ledger.runtime import open_ledger

    settings = settings_for(data_dir)
    with open_ledger(settings) as ledger, Session(ledger.engine) as session:
        bundle = export_bundle(session, index)
    target = out or Path(f"evidence-{index}.json")
    target.write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {target} (record {index}, checkpoint {bundle['checkpoint']['treeSize']})")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="Evidence bundle (`traceledger proof export`) or credit profile export (`traceledger credit export`).")],
    rpc_url: RpcUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check an evidence bundle using only the bundle and a chain node (or the data dir's embedded chain)."""
    from ledger.bundle import read_bundle, verify_bundle
    from ledger.runtime import open_chain

    settings = settings_for(data_dir, rpc_url=rpc_url)
    evidence = read_bundle(bundle)
    if not settings.rpc_url:
        from ledger.datadir import read_manifest

        read_manifest(settings.data_dir)  # the embedded chain lives in a data dir: make sure this is one
    with open_chain(settings) as chain:
        if isinstance(evidence, dict) and evidence.get("format") == "traceledger-credit-export/v1":  # `credit export`
            from ledger.credit.verify import verify_export

            verdict = verify_export(evidence, chain)
        else:
            verdict = verify_bundle(evidence, chain)
    console.print(f"[green]VERIFIED[/] {verdict.summary()}", highlight=False)


@contracts_app.command("build")
def contracts_build() -> None:
    """Compile contracts/*.sol (pinned solc, native or solc-js) into ledger/chain/artifacts."""
    from ledger.chain.compiler import build, find_compiler

    compiler = find_compiler()
    console.print(f"compiling with solc {compiler.version} ({compiler.path})")
    for path in build(compiler=compiler):
        console.print(f"  wrote {path}")


def main() -> None:
    try:
        app()
    except LedgerError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(1)
    except ValidationError as exc:  # a TRACELEDGER_* variable that does not parse
        err_console.print(f"[bold red]error:[/] {describe_invalid_settings(exc)}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
