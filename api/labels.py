"""QR labels over HTTP: the Digital Link of an item, lot, product or logistic unit as PNG or SVG,
and a sheet of labels for a lot's serialized items as PDF or PNG.

- ``GET /qr/{digital link path}?format=png|svg`` (``/qr/01/{gtin}/10/{lot}``,
  ``/qr/01/{gtin}/21/{serial}``, ``/qr/00/{sscc}``...): one label; GS1
  attributes in the query (``?17=YYMMDD``) go into the code and the text;
- ``GET /qr/sheet/01/{gtin}/10/{lot}?format=pdf|png``: A4 sheet(s) with one
  label per serialized item recorded for the lot (or the lot's own label
  when none is).

The code points at this server's resolver (the host the request came to),
or at ``?host=`` (a brand's resolver, ``https://id.gs1.org``...), so a phone
scanning it lands on the consumer page. Bad keys, hosts or sizes get a 400
naming the field.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.trace import _requested
from ledger.epcis.identifiers import Identifier, parse_digital_link
from ledger.trace.queries import lot_items
from scanner.labels import DEFAULT_DPI, DEFAULT_WIDTH_MM, MAX_SHEET_LABELS, LabelError, label_png, label_sheet, label_svg

router = APIRouter(tags=["labels"])

Host = Annotated[str | None, Query(description="Resolver the code points at (default: this server), e.g. https://id.gs1.org")]
Caption = Annotated[str | None, Query(max_length=120, description="Text under the GS1 human-readable line.")]
WidthMm = Annotated[float, Query(alias="widthMm", gt=0, le=200, description="Label width in millimetres.")]
Dpi = Annotated[int, Query(ge=72, le=1200, description="Printer resolution.")]

_MEDIA = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def _identifier(request: Request, prefix: str) -> Identifier:
    """The Digital Link in the path after ``prefix``, with the GS1 attributes (numeric keys) of the query."""
    path = _requested(request, prefix).split("?", 1)[0]
    attributes = [(k, v) for k, v in parse_qsl(request.url.query) if k.isdigit()]
    query = "&".join(f"{k}={v}" for k, v in attributes)
    return parse_digital_link(f"{path}?{query}" if query else path)


def _resolver(request: Request, host: str | None) -> str:
    if host is None:
        return str(request.base_url).rstrip("/")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise LabelError("host", f"must be an http(s) origin such as https://id.gs1.org, got {host!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _link(identifier: Identifier, resolver: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in identifier.attributes)
    return f"{resolver}{identifier.canonical}" + (f"?{query}" if query else "")


@router.get("/qr/sheet/{path:path}", summary="A sheet of QR labels for a lot's serialized items (PDF or PNG)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}, "image/png": {}}}})
def qr_sheet(
    path: str,
    request: Request,
    format: Literal["pdf", "png"] = "pdf",
    host: Host = None,
    caption: Caption = None,
    columns: Annotated[int, Query(ge=1, le=8)] = 4,
    dpi: Dpi = DEFAULT_DPI,
) -> Response:
    lot = _identifier(request, "/qr/sheet")
    if lot.scheme != "lgtin":
        raise LabelError("path", f"{lot.canonical} is not a lot: a sheet is for /01/{{gtin}}/10/{{lot}}")
    resolver = _resolver(request, host)
    with request.app.state.ledger.engine.connect() as connection:
        found = lot_items(connection, lot, limit=MAX_SHEET_LABELS)
    if found["more"]:
        raise LabelError("path", f"the lot has more than {MAX_SHEET_LABELS} items; print it in runs with `traceledger qr --sheet`")
    links = [f"{resolver}{key}" for key in found["items"]] or [_link(lot, resolver)]
    body = label_sheet(links, columns=columns, fmt=format, caption=caption, dpi=dpi)
    return Response(body, media_type=_MEDIA[format])


@router.get("/qr/{path:path}", summary="The QR label of a Digital Link (PNG or SVG) with the GS1 text under it",
            response_class=Response, responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}})
def qr_label(
    path: str,
    request: Request,
    format: Literal["png", "svg"] = "png",
    host: Host = None,
    caption: Caption = None,
    width_mm: WidthMm = DEFAULT_WIDTH_MM,
    dpi: Dpi = DEFAULT_DPI,
) -> Response:
    link = _link(_identifier(request, "/qr"), _resolver(request, host))
    if format == "svg":
        return Response(label_svg(link, caption=caption, width_mm=width_mm, dpi=dpi), media_type=_MEDIA["svg"])
    return Response(label_png(link, caption=caption, width_mm=width_mm, dpi=dpi), media_type=_MEDIA["png"])
