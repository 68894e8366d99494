"""Who is signing: the submitter's key, organisation and roles, from the
registry mirror (kept current by the chain indexer), so capture keeps working
while the chain is unreachable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from ledger.capture.errors import SignerNotAllowedError, UnknownSignerError
from ledger.participants.indexer import key_status


@dataclass(frozen=True)
class Signer:
    address: str
    participant_id: str
    gln: str
    name: str
    roles: frozenset[str]


def authorise_key(session: Session, address: str) -> Signer:
    """The active organisation behind ``address``, or a 401/403 saying why not."""
    status = key_status(session, address)
    if not status.registered:
        raise UnknownSignerError(
            f"signer: key {status.address} is not registered with any participant "
            "(registered in the last few seconds? the indexer may not have seen it yet: retry)"
        )
    who = f"{status.name} (GLN {status.gln})"
    if status.key_revoked:
        raise SignerNotAllowedError(f"signer: key {status.address} of {who} was revoked in block {status.revoked_block}")
    if not status.participant_active:
        raise SignerNotAllowedError(f"signer: {who} is suspended; its keys may not capture")
    assert status.participant_id and status.gln and status.name
    return Signer(status.address, status.participant_id, status.gln, status.name, status.roles)
