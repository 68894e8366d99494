"""Why a capture was refused: each error names the cause and carries its HTTP status."""

from __future__ import annotations

from ledger.errors import LedgerError


class CaptureError(LedgerError):
    """A capture was refused."""


class UnknownSignerError(CaptureError):
    """The signing key is not registered on chain (or not yet seen by the indexer)."""

    http_status = 401


class SignerNotAllowedError(CaptureError):
    """The key is revoked, or its organisation is suspended."""

    http_status = 403


class PolicyRefusedError(CaptureError):
    """An event needs a role the submitter's organisation does not hold.

    The refusal is recorded under ``capture_id`` (no event is stored)."""

    http_status = 403

    def __init__(self, capture_id: str, reason: str) -> None:
        self.capture_id = capture_id
        self.reason = reason
        super().__init__(f"capture {capture_id} refused: {reason}")


class CaptureReplayError(CaptureError):
    """The nonce was already used by this key for another capture."""

    http_status = 409

    def __init__(self, signer: str, nonce: str, capture_id: str) -> None:
        super().__init__(
            f"nonce: {nonce} was already used by {signer} for capture {capture_id} with other content; "
            "a replayed signature, or a client reusing nonces: sign again with a fresh nonce"
        )
