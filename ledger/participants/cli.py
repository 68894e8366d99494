"""``traceledger participant ...``: the registry from the command line.

Writes are signed by the data dir's service key (it holds the registry's
ADMIN governance role) and followed by a sync of the index's mirror; ``list``
and ``history`` sync first, then read the mirror.

``--new-key`` creates the participant's key as a keystore (v3) file in
``<data dir>/keystore/<gln>.json`` (``<gln>-2.json``... for further keys). Its
password comes from ``TRACELEDGER_PARTICIPANT_KEY_PASSWORD``, else the first
line of the file named by ``TRACELEDGER_PARTICIPANT_KEY_PASSWORD_FILE``, else
a prompt on the terminal. It is not the service key's password.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.config import Settings

if TYPE_CHECKING:
    from ledger.participants.indexer import ParticipantInfo
    from ledger.runtime import Ledger

PASSWORD_ENV = "TRACELEDGER_PARTICIPANT_KEY_PASSWORD"
PASSWORD_FILE_ENV = "TRACELEDGER_PARTICIPANT_KEY_PASSWORD_FILE"

participant_app = typer.Typer(help="Participants, their keys and roles in the on-chain registry.", no_args_is_help=True)
console = Console(soft_wrap=True)  # addresses and paths stay on one line

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: TRACELEDGER_DATA_DIR, else a per-user dir).", show_default=False),
]
GlnOption = Annotated[str, typer.Option("--gln", help="The participant's 13-digit GLN (check digit included).", show_default=False)]
NewKeyOption = Annotated[bool, typer.Option(
    "--new-key", help=f"Create a new key: keystore file <data dir>/keystore/<gln>.json, password from {PASSWORD_ENV} or a prompt.")]


def _table_console() -> Console:
    """Piped output keeps whole addresses on one line (a terminal keeps its own width)."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return console
    return Console(soft_wrap=True, width=220)


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def participant_key_password(purpose: str) -> str:
    """The password for a new participant keystore: env var, password file, or the terminal."""
    from ledger.errors import KeystoreError

    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if os.environ.get(PASSWORD_FILE_ENV):
        path = Path(os.environ[PASSWORD_FILE_ENV]).expanduser()
        try:
            return path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise KeystoreError(f"cannot read the participant key password file {path}: {exc}") from None
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Password for the new key ({purpose}): ")
        if getpass.getpass("Repeat the password: ") != password:
            raise KeystoreError("the two passwords differ; no key was created")
        return password
    raise KeystoreError(f"no password for the new key of {purpose}: set {PASSWORD_ENV} or {PASSWORD_FILE_ENV} (or run in a terminal to be asked)")


def _new_keystore_path(settings: Settings, gln: str) -> Path:
    path = settings.keystore_dir / f"{gln}.json"
    n = 2
    while path.exists():
        path = settings.keystore_dir / f"{gln}-{n}.json"
        n += 1
    return path


def _describe(info: ParticipantInfo) -> str:
    roles = ", ".join(info.roles) or "no roles"
    keys = ", ".join(k.address for k in info.active_keys) or "no active key"
    return f"{info.gln} {info.name!r} ({info.status}; {roles}; keys: {keys})"


def _with_new_key(ledger: Ledger, settings: Settings, gln: str, action) -> tuple[ParticipantInfo, str, Path]:  # type: ignore[no-untyped-def]
    """Create a keystore, run ``action(address)``; remove the keystore if the action fails."""
    from ledger.keystore import create_keystore

    ledger.service_account  # noqa: B018 (decrypt now: a wrong service password must not leave a new key behind)
    path = _new_keystore_path(settings, gln)
    account = create_keystore(path, participant_key_password(f"participant {gln}"))
    try:
        info = action(account.address)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return info, account.address, path


@participant_app.command("add")
def add(
    gln: GlnOption,
    name: Annotated[str, typer.Option("--name", help="Display name, 1 to 256 bytes.", show_default=False)],
    role: Annotated[list[str] | None, typer.Option("--role", help="A role to grant (repeatable), any case: PRODUCER, DISTRIBUTOR...", show_default=False)] = None,
    key: Annotated[list[str] | None, typer.Option("--key", help="Address of an existing signing key (repeatable).", show_default=False)] = None,
    new_key: NewKeyOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Register a participant with its roles and signing key(s)."""
    from ledger.chain.deploy import participant_id
    from ledger.participants import service
    from ledger.participants.errors import ParticipantInputError
    from ledger.participants.roles import ROLES
    from ledger.runtime import open_ledger

    gln = service.check_gln(gln)
    name = service.check_name(name)
    if not role:
        raise ParticipantInputError("role", f"give at least one --role ({', '.join(ROLES)})")
    roles = service.check_roles(role)
    keys = service.check_keys(key or [])
    if bool(keys) == new_key:
        raise ParticipantInputError("key", "give --key ADDRESS (repeatable) or --new-key, not both" if new_key
                                    else "give --key ADDRESS or --new-key")
    settings = _settings(data_dir)
    with open_ledger(settings) as ledger:
        if new_key:
            service.require_gln_free(ledger, gln)  # before a key file is written
            info, address, path = _with_new_key(ledger, settings, gln, lambda address: service.register_participant(
                ledger, gln=gln, name=name, roles=roles, keys=[address]))
            console.print(f"registered {_describe(info)}", highlight=False)
            console.print(f"new key {address} written to {path}; keep its password: it cannot be recovered", highlight=False)
        else:
            info = service.register_participant(ledger, gln=gln, name=name, roles=roles, keys=keys)
            console.print(f"registered {_describe(info)}", highlight=False)
        console.print(f"participant id 0x{participant_id(gln).hex()}", highlight=False)


@participant_app.command("list")
def list_(
    role: Annotated[str | None, typer.Option("--role", help="Only participants holding this role.", show_default=False)] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show every participant (GLN, name, status, roles, keys), synced from the chain."""
    from rich.table import Table
    from sqlmodel import Session

    from ledger.participants.indexer import list_participants
    from ledger.participants.service import registry_indexer
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        indexer = registry_indexer(ledger)
        indexer.sync()
        cursor = indexer.cursor()
        with Session(ledger.engine) as session:
            participants = list_participants(session, role=role)
    table = Table(title=f"participants (chain block {cursor[0] if cursor else '-'})")
    table.add_column("GLN", no_wrap=True)
    table.add_column("name")
    table.add_column("status", no_wrap=True)
    table.add_column("roles")
    table.add_column("keys", overflow="fold")
    for info in participants:
        keys = [k.address for k in info.active_keys] + [f"[dim]{k.address} (revoked)[/]" for k in info.keys if k.revoked]
        status = "[green]active[/]" if info.active else "[red]suspended[/]"
        table.add_row(info.gln, info.name, status, ", ".join(info.roles), "\n".join(keys) or "-")
    _table_console().print(table)


@participant_app.command("suspend")
def suspend(gln: GlnOption, data_dir: DataDirOption = None) -> None:
    """Suspend a participant: none of its keys may act until it is reactivated."""
    from ledger.participants.service import suspend_participant
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        info = suspend_participant(ledger, gln=gln)
    console.print(f"suspended {_describe(info)}", highlight=False)


@participant_app.command("reactivate")
def reactivate(gln: GlnOption, data_dir: DataDirOption = None) -> None:
    """Make a suspended participant active again."""
    from ledger.participants.service import reactivate_participant
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        info = reactivate_participant(ledger, gln=gln)
    console.print(f"reactivated {_describe(info)}", highlight=False)


@participant_app.command("add-key")
def add_key(
    gln: GlnOption,
    key: Annotated[str | None, typer.Option("--key", help="Address of an existing key.", show_default=False)] = None,
    new_key: NewKeyOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Add a signing key to a participant."""
    from ledger.participants import service
    from ledger.participants.errors import ParticipantInputError
    from ledger.runtime import open_ledger

    gln = service.check_gln(gln)
    if (key is not None) == new_key:
        raise ParticipantInputError("key", "give --key ADDRESS or --new-key, not both" if new_key else "give --key ADDRESS or --new-key")
    address = service.check_key(key) if key is not None else None
    settings = _settings(data_dir)
    with open_ledger(settings) as ledger:
        if address is None:
            service.require_participant(ledger, gln)  # before a key file is written
            info, address, path = _with_new_key(ledger, settings, gln,
                                                lambda new: service.add_key(ledger, gln=gln, key=new))
            console.print(f"new key {address} written to {path}; keep its password: it cannot be recovered", highlight=False)
        else:
            info = service.add_key(ledger, gln=gln, key=address)
    console.print(f"added key {address} to {_describe(info)}", highlight=False)


@participant_app.command("revoke-key")
def revoke_key(
    key: Annotated[str, typer.Option("--key", help="The key's address.", show_default=False)],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a signing key for good (it can never be registered again)."""
    from ledger.participants.service import revoke_key as revoke
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        info = revoke(ledger, key=key)
    console.print(f"revoked key of {_describe(info)}", highlight=False)


@participant_app.command("grant-role")
def grant_role(
    gln: GlnOption,
    role: Annotated[str, typer.Option("--role", help="The role, any case.", show_default=False)],
    data_dir: DataDirOption = None,
) -> None:
    """Grant a role to a participant."""
    from ledger.participants.service import grant_role as grant
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        info = grant(ledger, gln=gln, role=role)
    console.print(f"granted: {_describe(info)}", highlight=False)


@participant_app.command("revoke-role")
def revoke_role(
    gln: GlnOption,
    role: Annotated[str, typer.Option("--role", help="The role, any case.", show_default=False)],
    data_dir: DataDirOption = None,
) -> None:
    """Take a role away from a participant."""
    from ledger.participants.service import revoke_role as revoke
    from ledger.runtime import open_ledger

    with open_ledger(_settings(data_dir)) as ledger:
        info = revoke(ledger, gln=gln, role=role)
    console.print(f"revoked role: {_describe(info)}", highlight=False)


@participant_app.command("history")
def history(gln: GlnOption, data_dir: DataDirOption = None) -> None:
    """Every registry event of one participant, in chain order."""
    from rich.table import Table
    from sqlmodel import Session

    from ledger.participants.errors import ParticipantNotFoundError
    from ledger.participants.indexer import participant_by_gln, registry_history
    from ledger.participants.service import check_gln, registry_indexer
    from ledger.runtime import open_ledger

    gln = check_gln(gln)
    with open_ledger(_settings(data_dir)) as ledger:
        registry_indexer(ledger).sync()
        with Session(ledger.engine) as session:
            if participant_by_gln(session, gln) is None:
                raise ParticipantNotFoundError("gln", gln)
            events = registry_history(session, gln=gln)
    table = Table(title=f"registry history of {gln}")
    table.add_column("block", no_wrap=True)
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("transaction", overflow="fold")
    for event in events:
        detail = event.name or event.key_address or event.role or ""
        when = event.block_time.strftime("%Y-%m-%d %H:%M:%S") if event.block_time else "-"
        table.add_row(str(event.block_number), when, event.kind, detail, event.tx_hash)
    _table_console().print(table)
