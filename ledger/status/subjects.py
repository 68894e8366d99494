"""Subjects of the ProductStatus contract: canonical trace keys and their ids."""

from __future__ import annotations

from enum import IntEnum

from eth_utils import keccak

from ledger.epcis.identifiers import Identifier
from ledger.errors import LedgerError
from ledger.status.errors import StatusInputError
from ledger.trace.queries import canonical_key

CONTRACT_NAME = "ProductStatus"


class PackStatus(IntEnum):
    """How a pack left the supply chain (``IProductStatus.PackStatus``)."""

    NONE = 0
    DISPENSED = 1
    STOLEN = 2
    DESTROYED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def parse_pack_status(text: str) -> PackStatus:
    """``dispensed``, ``stolen`` or ``destroyed`` (any case) as a PackStatus."""
    try:
        status = PackStatus[text.strip().upper()]
    except KeyError:
        status = PackStatus.NONE
    if status is PackStatus.NONE:
        raise StatusInputError("status", f"must be dispensed, stolen or destroyed, not {text!r}")
    return status


def subject_key(key: str | Identifier) -> str:
    """The canonical trace key of a Digital Link (URI or path) or EPC URN; StatusInputError if malformed."""
    try:
        return canonical_key(key)
    except LedgerError as error:  # InvalidIdentifierError names the problem
        raise StatusInputError("key", error.message) from error


def subject_id(key: str) -> bytes:
    """The contract's id of a canonical key: keccak256 of its UTF-8 bytes."""
    return keccak(text=key)
