"""The scan page: a photo or a camera frame of a QR code or DataMatrix, to the product's page.

- ``GET /scan``: a page (Chinese or English, ``?lang=`` or ``Accept-Language``)
  with a file input that opens the phone's camera (``capture="environment"``)
  and posts the photo; where the browser offers ``navigator.mediaDevices``, a
  small inline script adds a live camera preview whose frame it posts to the
  same endpoint. Without script, the form alone works.
- ``POST /scan`` (``multipart/form-data``, the photo in the field ``image``,
  at most 10 MB): the code is read with :mod:`scanner.decode` (a QR holding a
  GS1 Digital Link, a GS1 DataMatrix or QR holding element strings), then a
  ``303`` to the resolver path on this host (``/01/{gtin}/10/{lot}/21/{serial}?17=...``,
  so lot and expiry as printed stay on the page), or, with
  ``Accept: application/json``, ``{"digitalLink", "path", "key"}``.

Bad uploads are domain errors: 415 not multipart, 400 no file in ``image``
or an unreadable form, 413 over 10 MB, 422 not an image, no code in it, or a
code that names no product or logistic unit. A browser (``Accept: text/html``)
gets them as the scan page again with the message; other clients as JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.page_kit import content_language, language_switch, page, pick_language, with_query
from api.trace import wants_html
from ledger.epcis.identifiers import DIGITAL_LINK_HOST, Identifier
from ledger.errors import LedgerError
from scanner.decode import DecodeError, element_strings_to_digital_link, read_identifier
from scanner.labels import hri_elements

router = APIRouter(tags=["scan"])

IMAGE_FIELD = "image"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
_FORM_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and part headers around the image."""
RESOLVED_KEYS = {"01": "GTIN", "00": "SSCC"}
"""Primary keys the resolver on this host serves (``api.trace``)."""


class UploadError(LedgerError):
    """The request carries no usable photo (no file in the ``image`` field, an unreadable form)."""


class NotMultipartError(UploadError):
    """The request is not ``multipart/form-data``."""

    http_status = 415


class UploadTooLargeError(UploadError):
    """The photo is larger than :data:`MAX_IMAGE_BYTES`."""

    http_status = 413


def _too_large() -> UploadTooLargeError:
    return UploadTooLargeError(f"{IMAGE_FIELD}: the photo is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB; "
                               "send a smaller photo of the code")


def _replay(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI ``receive`` that hands over a body already read."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def uploaded_image(request: Request) -> bytes:
    """The bytes of the file in the form field ``image``.

    The body is read with a cap before the form is parsed, so an upload over
    the limit costs at most the limit, whatever ``Content-Length`` claims.
    Raises :class:`NotMultipartError`, :class:`UploadTooLargeError` or
    :class:`UploadError`.
    """
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise NotMultipartError(f"{IMAGE_FIELD}: send the photo as multipart/form-data, in the form field "
                                f"{IMAGE_FIELD!r}")
    limit = MAX_IMAGE_BYTES + _FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large()
    try:
        async with Request(request.scope, _replay(bytes(body))).form(max_files=1, max_fields=8) as form:
            upload = form.get(IMAGE_FIELD)
            if not isinstance(upload, UploadFile):
                raise UploadError(f"{IMAGE_FIELD}: no file in the form field {IMAGE_FIELD!r}; "
                                  "attach a photo of the code")
            data = await upload.read()
    except StarletteHTTPException as error:  # Starlette's own answer to a malformed multipart body
        raise UploadError(f"{IMAGE_FIELD}: the form could not be read ({error.detail})") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large()
    if not data:
        raise UploadError(f"{IMAGE_FIELD}: the uploaded file is empty")
    return data


def resolver_path(identifier: Identifier) -> str:
    """The path on this host that resolves ``identifier``, with its lot and ``?17=``-style attributes kept.

    Raises :class:`DecodeError` for a key this resolver does not serve (a GLN, a GRAI...).
    """
    if identifier.ai not in RESOLVED_KEYS:
        served = ", ".join(f"({ai}) {name}" for ai, name in RESOLVED_KEYS.items())
        raise DecodeError(f"the code names {identifier.canonical}, not a product or a logistic unit: "
                          f"this service resolves {served}")
    return element_strings_to_digital_link(hri_elements(identifier), host="")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return not wants_html(request) and ("application/json" in accept or "+json" in accept)


_TEXT = {
    "en": {
        "title": "Scan a product code",
        "intro": "Photograph the QR code or DataMatrix on the pack or label, or choose a photo of it: you will see "
                 "where the product comes from and whether its history is verified.",
        "photo": "Photo of the code",
        "submit": "Look it up",
        "privacy": "The photo is only read to find the code; it is not kept.",
        "camera": "Use the camera",
        "capture": "Scan this frame",
        "busy": "Reading the code…",
        "denied": "The camera cannot be used here; take or choose a photo instead.",
        "failed": "The photo could not be sent; check the connection and try again.",
        "error": "The code could not be read",
    },
    "zh": {
        "title": "扫码查询",
        "intro": "拍摄包装或标签上的二维码或 DataMatrix 码，或选择一张照片，即可查看产品来源及其记录是否经过验证。",
        "photo": "条码照片",
        "submit": "查询",
        "privacy": "照片仅用于识别条码，不会保存。",
        "camera": "使用相机",
        "capture": "识别此画面",
        "busy": "正在识别…",
        "denied": "无法在此使用相机，请拍照或选择照片。",
        "failed": "照片发送失败，请检查网络后重试。",
        "error": "无法识别该码",
    },
}

_STYLE = (
    "form{display:grid;gap:.75rem}label{font-weight:600}input[type=file]{font-size:1rem}"
    "button{font-size:1.05rem;padding:.7rem 1rem;border:0;border-radius:.6rem;background:#0b57d0;color:#fff}"
    "button.secondary{background:#e8eef9;color:#0b57d0}"
    "video{width:100%;max-height:60vh;border-radius:.6rem;background:#000;margin:.5rem 0}"
    ".small{font-size:.8rem;color:#5f6368}#camera{margin-top:1rem}#camera[hidden]{display:none}"
)

# Progressive enhancement: only where the browser can open the camera. The
# messages come from data attributes, so the script holds no page text.
_CAMERA_SCRIPT = """
(function () {
  var media = navigator.mediaDevices;
  var box = document.getElementById('camera');
  if (!media || !media.getUserMedia || !window.fetch || !window.FormData) { return; }
  var form = document.getElementById('upload-form');
  var video = document.getElementById('camera-preview');
  var start = document.getElementById('camera-start');
  var capture = document.getElementById('camera-capture');
  var message = document.getElementById('camera-message');
  var stream = null;
  box.hidden = false;
  start.addEventListener('click', function () {
    media.getUserMedia({video: {facingMode: 'environment'}, audio: false}).then(function (opened) {
      stream = opened;
      video.srcObject = opened;
      video.hidden = false;
      capture.hidden = false;
      start.hidden = true;
      return video.play();
    }).catch(function (error) {
      message.textContent = box.dataset.denied + ' (' + error.name + ')';
    });
  });
  capture.addEventListener('click', function () {
    if (!video.videoWidth) { return; }
    var canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    message.textContent = box.dataset.busy;
    canvas.toBlob(function (blob) {
      var body = new FormData();
      body.append('image', blob, 'frame.png');
      fetch(form.action, {method: 'POST', body: body, headers: {'Accept': 'application/json'}})
        .then(function (response) {
          return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
        })
        .then(function (result) {
          if (result.ok) {
            if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
            window.location.assign(result.answer.path);
          } else {
            message.textContent = result.answer.detail || box.dataset.failed;
          }
        })
        .catch(function () { message.textContent = box.dataset.failed; });
    }, 'image/png');
  });
})();
"""


def render_scan_page(
    lang: str, *, here: str | None = None, explicit_lang: bool = False, error: str | None = None
) -> str:
    """The scan page in ``lang`` (zh or en); ``error``: why the last photo failed, shown above the form.

    ``explicit_lang``: the page was asked for with ``?lang=``, so the form
    posts with it and the product page opens in the same language.
    """
    t = _TEXT[lang]
    action = with_query("/scan", "lang", lang) if explicit_lang else "/scan"
    problem = ""
    if error:
        problem = (f'<section class="alert" role="alert" id="scan-error"><strong>{escape(t["error"])}</strong>'
                   f"<br>{escape(error)}</section>")
    body = (
        f'<header><h1>{escape(t["title"])}</h1>{language_switch(lang, here)}</header>{problem}'
        f'<section class="card"><p>{escape(t["intro"])}</p>'
        f'<form id="upload-form" method="post" action="{escape(action)}" enctype="multipart/form-data">'
        f'<label for="image">{escape(t["photo"])}</label>'
        f'<input id="image" name="{IMAGE_FIELD}" type="file" accept="image/*" capture="environment" required>'
        f'<button type="submit" id="upload-submit">{escape(t["submit"])}</button></form>'
        f'<section id="camera" hidden data-busy="{escape(t["busy"])}" data-denied="{escape(t["denied"])}" '
        f'data-failed="{escape(t["failed"])}">'
        f'<button type="button" class="secondary" id="camera-start">{escape(t["camera"])}</button>'
        '<video id="camera-preview" playsinline muted hidden></video>'
        f'<button type="button" id="camera-capture" hidden>{escape(t["capture"])}</button>'
        '<p id="camera-message" role="status"></p></section>'
        f'<p class="small">{escape(t["privacy"])}</p></section>'
        f"<script>{_CAMERA_SCRIPT}</script>"
    )
    return page(lang, t["title"], body, style=_STYLE)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@router.get("/scan", response_class=HTMLResponse, summary="The scan page: a camera frame or a photo of a code (zh/en)")
def scan_page(
    request: Request,
    lang: Annotated[str | None, Query(description="zh or en; overrides Accept-Language.")] = None,
) -> HTMLResponse:
    language = pick_language(request.headers.get("accept-language"), lang)
    html = render_scan_page(language, here=_here(request), explicit_lang=lang is not None)
    return HTMLResponse(html, headers=content_language(language))


@router.post(
    "/scan",
    summary="Read the code in a photo (multipart field `image`, at most 10 MB) and go to its page",
    response_class=Response,
    responses={
        303: {"description": "to the resolver path of the code on this host"},
        200: {"description": 'with Accept: application/json: {"digitalLink", "path", "key"}'},
        400: {"description": "no file in the field `image`, or an unreadable form"},
        413: {"description": "the photo is larger than 10 MB"},
        415: {"description": "not multipart/form-data"},
        422: {"description": "not an image, no QR code or DataMatrix in it, or a code that names no product"},
    },
)
async def scan_upload(
    request: Request,
    lang: Annotated[str | None, Query(description="zh or en: the language of the page it leads to.")] = None,
) -> Response:
    try:
        image = await uploaded_image(request)
        # zxing on a 12-megapixel photo takes tens of milliseconds: off the event loop.
        identifier = await run_in_threadpool(read_identifier, image)
        link_path = resolver_path(identifier)
    except LedgerError as error:
        if not wants_html(request):
            raise  # JSON, through the one handler in api.errors
        language = pick_language(request.headers.get("accept-language"), lang)
        html = render_scan_page(language, here="/scan", explicit_lang=lang is not None, error=error.message)
        return HTMLResponse(html, status_code=error.http_status, headers=content_language(language))
    path = with_query(link_path, "lang", pick_language(None, lang)) if lang is not None else link_path
    if _wants_json(request):
        return JSONResponse({"digitalLink": DIGITAL_LINK_HOST + link_path, "path": path, "key": identifier.canonical})
    return RedirectResponse(path, status_code=303)
