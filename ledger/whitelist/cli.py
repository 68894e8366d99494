"""``traceledger whitelist ...``: the customs trader whitelist from the command line.

Writes are sent by the data dir's service key, or by ``--key FILE`` (a
keystore v3 file); the sending key must hold CUSTOMS in the participant
registry. With ``--officer-key FILE`` the officer's key signs the change
(EIP-712) and the sending key only relays it, so the officer needs no node and
no gas. Keystore passwords come from ``TRACELEDGER_KEY_PASSWORD`` (or
``..._FILE``, or the terminal); the officer key's from
``TRACELEDGER_OFFICER_KEY_PASSWORD`` if set, else the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The customs trader whitelist: set, revoke, suspend, repair, check, history, import.",
                  no_args_is_help=True)
console = Console(soft_wrap=True)

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: TRACELEDGER_DATA_DIR).",
                                                        show_default=False)]
UsccOption = Annotated[str, typer.Option("--uscc", help="The trader's unified social credit code (18 characters).")]
KeyOption = Annotated[Path | None, typer.Option("--key", help="Keystore of the sending key (default: the service key).",
                                                    show_default=False)]
OfficerOption = Annotated[Path | None, typer.Option(
    "--officer-key", help="Keystore of the customs officer who signs (EIP-712); the sending key relays.", show_default=False)]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (1 to 256 bytes; kept on chain).")]
DossierOption = Annotated[Path, typer.Option("--dossier", help="Evidence dossier file; its SHA-256 goes on chain.",
                                             exists=False)]


def _settings(data_dir: Path | None):
    from ledger.cli.main import settings_for

    return settings_for(data_dir)


def _open(data_dir: Path | None):
    from ledger.runtime import open_ledger

    return open_ledger(_settings(data_dir))


def _account(ledger: Any, key: Path | None):
    if key is None:
        return ledger.service_account
    from ledger.keystore import load_keystore, resolve_password

    return load_keystore(key, resolve_password(ledger.settings, purpose=str(key)))


def _officer(ledger: Any, key: Path | None):
    if key is None:
        return None
    from ledger.keystore import load_keystore, resolve_password

    password = os.environ.get("TRACELEDGER_OFFICER_KEY_PASSWORD") or resolve_password(ledger.settings, purpose=str(key))
    return load_keystore(key, password)


def _dossier_hash(path: Path) -> bytes:
    from ledger.whitelist.errors import WhitelistInputError

    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError as exc:
        raise WhitelistInputError("dossier", f"cannot read {path}: {exc.strerror}") from None


def _write(data_dir: Path | None, action: str, params_of, key: Path | None, officer_key: Path | None) -> None:
    from ledger.whitelist.history import decode_logs
    from ledger.whitelist.service import Whitelist

    with _open(data_dir) as ledger:
        whitelist = Whitelist.from_ledger(ledger)
        params = params_of(ledger)
        sender = _account(ledger, key)
        officer = _officer(ledger, officer_key)
        receipt = whitelist.write(action, params, sender=sender, officer=officer)
        for event in decode_logs(whitelist.contract, receipt["logs"]):
            via = f", relayed by {sender.address}" if officer is not None else ""
            console.print(f"{event.kind} {event.uscc} version {event.version} by {event.officer}{via} "
                          f"in block {receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()})",
                          highlight=False)


@app.command("set")
def set_entry(
    uscc: UsccOption,
    level: Annotated[str, typer.Option("--level", help="ADVANCED_CERTIFIED (AEO), GENERAL or DISHONEST.")],
    valid_from: Annotated[str, typer.Option("--valid-from", help="Start of validity: unix seconds or ISO 8601.")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="End of validity (exclusive): unix seconds or ISO 8601.")],
    dossier: DossierOption,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="A scope held (repeatable): OFFSHORE_TRADE, EXPEDITED_CLEARANCE.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name, kept in the index (not on chain).")] = None,
    key: KeyOption = None,
    officer_key: OfficerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List a trader, or replace its entry (a new version)."""
    from ledger.whitelist.model import EntryContent, parse_level, parse_scopes, parse_time
    from ledger.whitelist.queries import save_name
    from ledger.whitelist.service import set_params
    from ledger.whitelist.uscc import validate_uscc

    content = EntryContent(
        uscc=validate_uscc(uscc), level=parse_level(level), scopes=parse_scopes(scope or []),
        valid_from=parse_time(valid_from, field="valid-from"), valid_until=parse_time(valid_until, field="valid-until"),
        dossier_hash=_dossier_hash(dossier),
    )

    def params(ledger: Any) -> dict:
        if name:
            save_name(ledger.engine, content.uscc, name.strip())
        return set_params(content)

    _write(data_dir, "SetEntry", params, key, officer_key)


def _reason_command(action: str):
    def command(uscc: UsccOption, reason: ReasonOption, key: KeyOption = None, officer_key: OfficerOption = None,
                data_dir: DataDirOption = None) -> None:
        from ledger.whitelist.service import reason_params

        values = reason_params(uscc, reason)
        _write(data_dir, action, lambda _ledger: values, key, officer_key)

    return command


app.command("suspend", help="Suspend an active entry (its scopes stop applying).")(_reason_command("SuspendEntry"))
app.command("lift", help="Lift a suspension: the entry is active again.")(_reason_command("LiftSuspension"))
app.command("revoke", help="Revoke an entry: the trader is off the list.")(_reason_command("RevokeEntry"))


@app.command("repair")
def repair(
    uscc: UsccOption,
    dossier: DossierOption,
    level: Annotated[str, typer.Option("--level", help="The restored level: GENERAL or ADVANCED_CERTIFIED.")] = "GENERAL",
    key: KeyOption = None,
    officer_key: OfficerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Credit repair: restore a DISHONEST trader after rectification, on the evidence of a dossier."""
    from ledger.whitelist.model import parse_level
    from ledger.whitelist.service import repair_params

    values = repair_params(uscc, parse_level(level, allow_dishonest=False), _dossier_hash(dossier))
    _write(data_dir, "RepairCredit", lambda _ledger: values, key, officer_key)


@app.command("check")
def check(
    uscc: UsccOption,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="A scope needed (repeatable).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When: unix seconds or ISO 8601 (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (as the API gives it).")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Is the trader allowed (these scopes, at that time)? Read from chain state; exit 0 if allowed, 1 if not."""
    from ledger.whitelist.model import parse_scopes, parse_time
    from ledger.whitelist.queries import check_json
    from ledger.whitelist.service import Whitelist

    required = parse_scopes(scope or [])
    moment = parse_time(at, field="at") if at is not None else None
    with _open(data_dir) as ledger:
        answer = check_json(Whitelist.from_ledger(ledger), uscc, required, moment)
    if as_json:
        console.print_json(json.dumps(answer))
    else:
        verdict = "[green]ALLOWED[/]" if answer["allowed"] else f"[red]NOT ALLOWED ({answer['status']})[/]"
        console.print(f"{verdict} {answer['uscc']}: {answer['reason']}", highlight=False)
        console.print(f"[dim]read at block {answer['blockNumber']} {answer['blockHash']}, for {answer['at']}[/]",
                      highlight=False)
    raise typer.Exit(0 if answer["allowed"] else 1)


@app.command("history")
def history(
    uscc: UsccOption,
    source: Annotated[str, typer.Option("--source", help="index (the mirror, synced first) or chain (the node's logs).")] = "index",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (as the API gives it).")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Every change of a trader's entry, rebuilt from the contract's events and checked against the chain."""
    from ledger.whitelist.queries import trader_history
    from ledger.whitelist.service import Whitelist

    with _open(data_dir) as ledger:
        answer = trader_history(Whitelist.from_ledger(ledger), ledger.engine, uscc, source=source,
                                start_block=ledger.manifest.deployed_block)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    title = f"history of {answer['uscc']}" + (f" ({answer['name']})" if answer["name"] else "")
    table = Table(title=title)
    for column in ("v", "change", "block", "time", "officer", "details"):
        table.add_column(column)
    for change in answer["changes"]:
        details = change.get("reason") or ", ".join(filter(None, [
            change.get("previousLevel") and f"{change['previousLevel']} ->", change.get("level"),
            "|".join(change.get("scopes", [])) or None,
            change.get("validFrom") and f"{change['validFrom']} .. {change['validUntil']}",
        ]))
        table.add_row(str(change["version"]), change["change"], str(change["blockNumber"]), change["blockTime"] or "",
                      change["officer"], details)
    console.print(table)
    agree = "[green]matches[/]" if answer["matchesChain"] else "[red]DIFFERS FROM[/]"
    console.print(f"rebuilt from {len(answer['changes'])} event(s) ({answer['source']}); {agree} the contract's "
                  f"entry at block {answer['blockNumber']}", highlight=False)
    if not answer["matchesChain"]:
        raise typer.Exit(1)


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV with columns uscc,name,level,scopes,valid_from,valid_until,dossier_sha256.")],
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="At most this many entries per transaction (default: as many as the block gas limit allows).", show_default=False)] = None,
    relist_revoked: Annotated[bool, typer.Option("--relist-revoked", help="List revoked traders again when the file names them.")] = False,
    key: KeyOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Bulk load a customs list in as few transactions as possible; re-run to resume after a failure."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ledger.whitelist.importer import Importer
    from ledger.whitelist.service import Whitelist

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with _open(data_dir) as ledger:
        sender = _account(ledger, key)
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("rows", total=None, note="reading the chain")

            def update(done: int, total: int, note: str) -> None:
                progress.update(task, completed=done, total=total, note=note)

            importer = Importer(Whitelist.from_ledger(ledger), ledger.engine, sender, batch_size=batch_size,
                                relist_revoked=relist_revoked, progress=update)
            report = importer.run_file(file)
    console.print(report.summary(), highlight=False)
