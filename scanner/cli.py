"""``traceledger qr``: QR labels from the command line (registered in ``ledger.cli.main``).

Kept light at import time (typer only): the command line starts fast and
Pillow and qrcode load only when a label is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from ledger.config import Settings
    from scanner.verify import TrustedContracts, Verdict

console = Console(soft_wrap=True, highlight=False)


def qr(
    uris: Annotated[
        list[str],
        typer.Argument(
            help="GS1 Digital Link URI(s), e.g. https://id.gs1.org/01/<gtin>/21/<serial>.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output file: .png or .svg for one label, .pdf or .png for --sheet.", show_default=False
        ),
    ] = None,
    caption: Annotated[
        str | None,
        typer.Option("--caption", help="A line under the GS1 text, e.g. the product name.", show_default=False),
    ] = None,
    sheet: Annotated[
        bool, typer.Option("--sheet", help="Lay the labels out on A4 pages (PDF, or one PNG page).")
    ] = False,
    columns: Annotated[int, typer.Option("--columns", help="Labels per row on a sheet.")] = 4,
    width_mm: Annotated[float, typer.Option("--width-mm", help="Width of a single label in millimetres.")] = 30.0,
    dpi: Annotated[int, typer.Option("--dpi", help="Printer resolution the label is drawn for.")] = 300,
    font: Annotated[
        Path | None,
        typer.Option(
            "--font", help="TrueType/OpenType font for the text (e.g. one with CJK glyphs).", show_default=False
        ),
    ] = None,
) -> None:
    """Render GS1 Digital Link URIs as QR labels with the GS1 text under the code (one label, or an A4 sheet)."""
    from scanner.labels import LabelError, default_label_name, gs1_hri, write_label, write_sheet

    if sheet:
        target = write_sheet(uris, out or Path("labels.pdf"), columns=columns, caption=caption, dpi=dpi, font=font)
        console.print(f"wrote {target} ({len(uris)} label{'s' if len(uris) != 1 else ''}, {columns} columns, A4)")
        return
    if len(uris) != 1:
        raise LabelError("URI", f"{len(uris)} URIs given; one label takes one URI (use --sheet for several)")
    uri = uris[0]
    target = write_label(
        uri, out or Path(default_label_name(uri)), caption=caption, width_mm=width_mm, dpi=dpi, font=font
    )
    console.print(f"wrote {target} ({width_mm:g} mm at {dpi} dpi): {gs1_hri(uri)}")


# --- traceledger scan ---------------------------------------------------------------------------

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2
EXIT_PARTLY_VERIFIED = 3
_EXIT_CODES = {"VERIFIED": EXIT_VERIFIED, "NOT VERIFIED": EXIT_NOT_VERIFIED, "PARTLY VERIFIED": EXIT_PARTLY_VERIFIED}

err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def _usage_error(message: str) -> typer.Exit:
    """Print one line naming what is wrong with the input, and exit 2 (as click does for usage errors)."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(EXIT_USAGE)


def scan(
    image: Annotated[
        Path | None,
        typer.Argument(help="Photo or image file of the QR code or GS1 DataMatrix (PNG, JPEG...).", show_default=False),
    ] = None,
    link: Annotated[
        str | None,
        typer.Option(
            "--link", help="A Digital Link URI or GS1 element string, e.g. (01)09521...(21)SN1, instead of an image.",
            show_default=False,
        ),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            "--api", envvar="TRACELEDGER_API_URL", show_default=False,
            help="traceledger server to ask (default: TRACELEDGER_API_URL, else the host the code's link names).",
        ),
    ] = None,
    rpc_url: Annotated[
        str | None,
        typer.Option(
            "--rpc-url", show_default=False,
            help="JSON-RPC URL of a chain node (default: TRACELEDGER_RPC_URL, else the data dir's own chain).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", show_default=False,
            help="Data dir whose manifest names the trusted contracts (default: TRACELEDGER_DATA_DIR).",
        ),
    ] = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor", help="Trusted CheckpointAnchor address (instead of a data dir's manifest).", show_default=False
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Trusted ProductStatus address, with --anchor.", show_default=False),
    ] = None,
    chain_id: Annotated[
        int | None, typer.Option("--chain-id", help="Refuse a node on another chain.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON, for machines.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the API.", min=0.1)] = 30.0,
) -> None:
    """Scan a code, fetch its trace from the API and verify it against the chain alone.

    Prints VERIFIED, PARTLY VERIFIED (events not anchored yet) or NOT
    VERIFIED with the reason, then the journey and any recall. Exit code: 0
    verified, 1 not verified (or the API or chain could not be asked), 2 bad
    input (no code in the image, bad option), 3 partly verified.
    """
    from ledger.errors import ConfigError
    from scanner.decode import DecodeError, parse_gs1, read_identifier
    from scanner.fetch import FetchError, TraceApi, api_base_for

    if (image is None) == (link is None):
        raise _usage_error("give an IMAGE or --link (one of them)")
    try:
        identifier = read_identifier(image) if image is not None else parse_gs1(link or "")
        base = api_base_for(identifier, api)
        settings, trusted, chain_url = _trust(data_dir, rpc_url, anchor, status, chain_id)
    except (DecodeError, FetchError, ConfigError) as error:
        raise _usage_error(error.message) from None

    from ledger.runtime import open_chain
    from scanner.verify import ChainReader, verify_trace

    with open_chain(settings, rpc_url=chain_url) as chain:
        try:
            reader = ChainReader(chain, trusted)
        except ConfigError as error:
            raise _usage_error(error.message) from None
        with TraceApi(base, timeout=timeout) as source:
            trace = source.trace(identifier)
            verdict = verify_trace(
                trace, scanned_key=identifier.canonical, chain=reader, evidence=source.record_evidence
            )
    if as_json:
        import json

        output = {"scanned": identifier.uri, "api": base, **verdict.to_json()}
        typer.echo(json.dumps(output, indent=2, ensure_ascii=False))
    else:
        _render(verdict, scanned=identifier.uri, base=base)
    raise typer.Exit(_EXIT_CODES[verdict.status])


def _trust(
    data_dir: Path | None, rpc_url: str | None, anchor: str | None, status: str | None, chain_id: int | None
) -> tuple[Settings, TrustedContracts, str | None]:
    """Settings, trusted contracts and node URL (None: the data dir's embedded chain) for a scan.

    The contracts come from ``--anchor``/``--status`` or from the data dir's
    manifest, never from the API. Raises ConfigError (a usage error) when
    neither names them, or when they disagree on the chain.
    """
    from ledger.config import Settings
    from ledger.datadir import manifest_path, read_manifest
    from ledger.errors import ConfigError
    from scanner.verify import TrustedContracts

    values: dict[str, object] = {"rpc_url": rpc_url} if rpc_url else {}
    if data_dir is not None:
        values["data_dir"] = data_dir
    settings = Settings(**values)
    if status is not None and anchor is None:
        raise ConfigError("--status needs --anchor: both name the ledger to trust")
    if anchor is not None:
        if not settings.rpc_url:
            read_manifest(settings.data_dir)  # the embedded chain lives in a data dir: make sure this is one
        trusted = TrustedContracts(anchor=anchor, status=status, chain_id=chain_id, source="--anchor/--status")
        return settings, trusted, settings.rpc_url
    if not manifest_path(settings.data_dir).is_file():
        raise ConfigError(
            f"no trusted contracts: {settings.data_dir} is no traceledger data dir; pass --data-dir of one, "
            "or --anchor and --status with --rpc-url (the addresses your consortium publishes)"
        )
    manifest = read_manifest(settings.data_dir)
    if chain_id is not None and chain_id != manifest.chain_id:
        raise ConfigError(f"--chain-id {chain_id}: the data dir's contracts are on chain {manifest.chain_id}")
    contracts = manifest.contracts
    trusted = TrustedContracts(
        anchor=contracts["CheckpointAnchor"], status=contracts.get("ProductStatus"), chain_id=manifest.chain_id,
        registry=contracts.get("ParticipantRegistry"), from_block=manifest.deployed_block,
        source=str(manifest_path(settings.data_dir)),
    )
    node = settings.rpc_url or (manifest.rpc_url if manifest.chain_kind == "rpc" else None)
    return settings, trusted, node


_STYLE = {"VERIFIED": "bold green", "PARTLY VERIFIED": "bold yellow", "NOT VERIFIED": "bold red"}
_MARK = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "partial": "[yellow]…[/]"}


def _render(verdict: Verdict, *, scanned: str, base: str) -> None:
    """The verdict line, warnings, the journey and the checks, for a person at a terminal."""
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[{_STYLE[verdict.status]}]{escape(verdict.headline)}[/]")
    cp = verdict.checkpoint
    anchored = f"; checkpoint of {cp.tree_size} records anchored in block {cp.block_number}" if cp else ""
    console.print(f"{escape(verdict.key)} (scanned {escape(scanned)}) from {escape(base)}; "
                  f"chain {verdict.chain_id} at block {verdict.block}{anchored}")
    for warning in verdict.warnings:
        console.print(f"[bold yellow]⚠ {escape(warning.describe())}[/]")
    trusted = verdict.status != "NOT VERIFIED"
    journey = Table(title="journey" if trusted else "journey as the API tells it (NOT verified)", title_justify="left")
    for column in ("time (UTC)", "step", "place", "actor", "concerns", "anchored"):
        journey.add_column(column)
    for step in verdict.journey:
        journey.add_row(
            step.time, step.step + (f" ({step.disposition})" if step.disposition else ""),
            escape(step.place or "-"), escape(step.actor or step.actor_id or "-"),
            step.relation or "-", "✓" if step.anchored else "[yellow]not yet[/]",
        )
    console.print(journey)
    checks = Table(title="checks", title_justify="left", show_header=False)
    for check in verdict.checks:
        checks.add_row(_MARK[check.outcome], check.name, escape(check.detail))
        for problem in check.problems:
            checks.add_row("", "", f"[red]{escape(problem)}[/]")
    console.print(checks)
