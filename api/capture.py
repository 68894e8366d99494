"""EPCIS 2.0 capture and query, in the shape of the REST binding.

A capture is signed: the submitter's key signs (EIP-712) the events' hash IDs
and a nonce, sent in the headers ``TL-Signer``, ``TL-Nonce`` and
``TL-Signature``; ``GET /v1/signing-domain`` gives the domain to sign in.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from api.deps import LedgerDep, SessionDep
from api.errors import error_body
from ledger.capture.errors import PolicyRefusedError
from ledger.capture.service import Submission, capture, load_capture
from ledger.capture.signing import SignatureError, SigningDomain
from ledger.epcis.errors import DocumentTooLargeError, InvalidDocumentError

router = APIRouter(tags=["capture"])

MAX_BODY_BYTES = 64 * 1024 * 1024

_DOCUMENT_SCHEMA = {
    "type": "object",
    "description": "An EPCIS 2.0 EPCISDocument (JSON / JSON-LD binding); read by hand so it can be up to "
                   f"{MAX_BODY_BYTES:,} bytes and 10,000 events.",
    "required": ["type", "schemaVersion", "creationDate", "epcisBody"],
    "properties": {
        "@context": {}, "type": {"type": "string", "enum": ["EPCISDocument"]}, "schemaVersion": {"type": "string"},
        "creationDate": {"type": "string", "format": "date-time"},
        "epcisBody": {"type": "object", "required": ["eventList"],
                      "properties": {"eventList": {"type": "array", "items": {"type": "object"}}}},
    },
}
_DOCUMENT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _DOCUMENT_SCHEMA}, "application/ld+json": {"schema": _DOCUMENT_SCHEMA}}}}


def signing_domain(ledger: LedgerDep) -> SigningDomain:
    return SigningDomain(chain_id=ledger.chain.chain_id, verifying_contract=ledger.manifest.contracts["ParticipantRegistry"])


@router.get("/v1/signing-domain", summary="The EIP-712 domain captures are signed in")
def get_signing_domain(ledger: LedgerDep) -> dict[str, Any]:
    return {
        "domain": signing_domain(ledger).as_typed_data(),
        "types": {"Capture": [{"name": "eventHashes", "type": "bytes32[]"}, {"name": "nonce", "type": "uint256"}]},
        "primaryType": "Capture",
    }


def _nonce(text: str | None) -> int:
    if text is None:
        raise SignatureError("TL-Nonce header missing: every capture is signed with a fresh nonce")
    try:
        value = int(text, 0)
    except ValueError:
        raise SignatureError(f"TL-Nonce: {text!r} is not an integer") from None
    if not 0 <= value < 2**256:
        raise SignatureError("TL-Nonce: must be an unsigned 256-bit integer")
    return value


@router.post(
    "/capture",
    status_code=202,
    summary="Capture a signed EPCIS document (JSON / JSON-LD, up to 10,000 events)",
    responses={400: {"description": "invalid document; names event and field"}, 401: {"description": "unsigned or forged"},
               403: {"description": "key suspended or role not allowed"}, 409: {"description": "nonce replayed"},
               413: {"description": "too large"}},
    openapi_extra=_DOCUMENT_BODY,  # the body is parsed by hand (orjson, size limit), so FastAPI cannot infer it
)
async def post_capture(
    request: Request,
    ledger: LedgerDep,
    tl_signer: Annotated[str | None, Header(alias="TL-Signer")] = None,
    tl_nonce: Annotated[str | None, Header(alias="TL-Nonce")] = None,
    tl_signature: Annotated[str | None, Header(alias="TL-Signature")] = None,
) -> Response:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise DocumentTooLargeError("body", f"{int(length):,} bytes is over the {MAX_BODY_BYTES:,}-byte limit")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise DocumentTooLargeError("body", f"over the {MAX_BODY_BYTES:,}-byte limit")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "not UTF-8 text" if "utf-8" in str(exc).lower() else f"not JSON ({exc})"
        raise InvalidDocumentError("body", reason) from None
    if not isinstance(document, dict):
        raise InvalidDocumentError("body", "an EPCISDocument JSON object is expected")
    if not tl_signer or not tl_signature:
        raise SignatureError("TL-Signer and TL-Signature headers missing: captures must be signed by a registered key")
    submission = Submission(document=document, signer=tl_signer, nonce=_nonce(tl_nonce), signature=tl_signature)
    domain = signing_domain(ledger)
    from starlette.concurrency import run_in_threadpool

    try:
        result = await run_in_threadpool(capture, engine=ledger.engine, domain=domain, submission=submission)
    except PolicyRefusedError as refused:
        return JSONResponse(
            error_body("PolicyRefusedError", refused.message, captureID=refused.capture_id),
            status_code=refused.http_status,
            headers={"Location": f"/capture/{refused.capture_id}"},
        )
    return Response(orjson.dumps(result.as_json()), status_code=202, media_type="application/json",
                    headers={"Location": f"/capture/{result.capture_id}"})


@router.get("/capture/{capture_id}", summary="State of a capture and, per event, its hash ID and log index")
def get_capture(capture_id: str, session: SessionDep) -> dict[str, Any]:
    return load_capture(session, capture_id).as_json()
