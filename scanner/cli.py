"""``traceledger qr``: QR labels from the command line (registered in ``ledger.cli.main``).

Kept light at import time (typer only): the command line starts fast and
Pillow and qrcode load only when a label is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
