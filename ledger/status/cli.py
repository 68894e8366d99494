"""``traceledger product ...``: recalls and pack status on chain from the command line.

Writes are sent by ``--key FILE`` (the acting participant's keystore; default:
the service key), whose on-chain role authorises them: REGULATOR recalls
anything, a PRODUCER or MANUFACTURER its own registered lots, a DISPENSER
dispenses packs. ``show`` reads the chain itself, not the index.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Recalls and pack status on chain: register-lot, recall, withdraw, decommission, show.",
                  no_args_is_help=True)
console = Console(soft_wrap=True)

KeyArgument = Annotated[str, typer.Argument(help="Digital Link (URI or path, e.g. /01/09506000134352/10/LOT1) or EPC URN.")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: TRACELEDGER_DATA_DIR).",
                                                        show_default=False)]
SenderOption = Annotated[Path | None, typer.Option("--key", help="Keystore of the acting participant's key (default: the service key).",
                                                       show_default=False)]
NoticeOption = Annotated[str, typer.Option("--notice", help="Public text shown on every scan (1 to 256 bytes; on chain).")]
DossierOption = Annotated[Path | None, typer.Option("--dossier", help="Evidence file; its SHA-256 goes on chain.",
                                                        show_default=False)]


def _dossier_hash(path: Path | None) -> bytes | None:
    from ledger.status.errors import StatusInputError

    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError as exc:
        raise StatusInputError("dossier", f"cannot read {path}: {exc.strerror}") from None


def _send(data_dir: Path | None, key_file: Path | None, write: Any, **arguments: Any) -> None:
    """Open the data dir, send ``write`` from the acting key, print what the receipt's events say."""
    from ledger.cli.main import settings_for
    from ledger.keystore import load_keystore, resolve_password
    from ledger.runtime import open_ledger
    from ledger.status.subjects import CONTRACT_NAME

    with open_ledger(settings_for(data_dir)) as ledger:
        sender = ledger.service_account if key_file is None else load_keystore(
            key_file, resolve_password(ledger.settings, purpose=str(key_file)))
        contract = ledger.contract(CONTRACT_NAME)
        receipt = write(chain=ledger.chain, contract=contract, sender=sender, **arguments)
        for log in receipt["logs"]:
            for event in contract.events:
                try:
                    decoded = event().process_log(log)
                except Exception:  # a log of another event type
                    continue
                args = decoded["args"]
                console.print(f"{decoded['event']} {args['key']} by participant 0x{bytes(args['participantId']).hex()} "
                              f"in block {receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()})",
                              highlight=False)
                break


@app.command("register-lot")
def register_lot(key: KeyArgument, sender: SenderOption = None, data_dir: DataDirOption = None) -> None:
    """Register a lot as the acting producer's own, so that it may recall it later."""
    from ledger.status import service

    _send(data_dir, sender, service.register_lot, key=key)


@app.command("recall")
def recall(key: KeyArgument, notice: NoticeOption, dossier: DossierOption = None, sender: SenderOption = None,
           data_dir: DataDirOption = None) -> None:
    """Recall a lot or a serialized item: every scan of it, or of anything made from it, shows the notice."""
    from ledger.status import service

    _send(data_dir, sender, service.recall, key=key, notice=notice, reason_hash=_dossier_hash(dossier))


@app.command("withdraw")
def withdraw(key: KeyArgument, notice: NoticeOption, sender: SenderOption = None, data_dir: DataDirOption = None) -> None:
    """Withdraw a recall (regulators only)."""
    from ledger.status import service

    _send(data_dir, sender, service.withdraw_recall, key=key, notice=notice)


@app.command("decommission")
def decommission(
    key: KeyArgument,
    as_: Annotated[str, typer.Option("--as", help="dispensed, stolen or destroyed.")],
    dossier: DossierOption = None,
    sender: SenderOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record that a pack left the supply chain; a pack is decommissioned once."""
    from ledger.status import service
    from ledger.status.subjects import parse_pack_status

    _send(data_dir, sender, service.decommission, key=key, status=parse_pack_status(as_),
          reason_hash=_dossier_hash(dossier))


@app.command("show")
def show(keys: Annotated[list[str], typer.Argument(help="Digital Links or EPC URNs.")], data_dir: DataDirOption = None) -> None:
    """The status of each key, read from the chain itself."""
    from ledger.cli.main import settings_for
    from ledger.runtime import open_ledger
    from ledger.status.service import read_statuses
    from ledger.status.subjects import CONTRACT_NAME, subject_key

    canonical = [subject_key(key) for key in keys]
    with open_ledger(settings_for(data_dir)) as ledger:
        found = read_statuses(chain=ledger.chain, contract=ledger.contract(CONTRACT_NAME), keys=canonical)
    table = Table("key", "owner", "recall", "pack")
    for key in canonical:
        status = found[key]
        recall_text = f"RECALLED {status.recalled_at:%Y-%m-%d %H:%M}Z by {status.recalled_by}" if status.recalled else "-"
        pack = f"{status.pack_status.label.upper()} {status.decommissioned_at:%Y-%m-%d %H:%M}Z" if status.pack_status else "-"
        table.add_row(key, status.owner or "-", recall_text, pack)
    console.print(table)
