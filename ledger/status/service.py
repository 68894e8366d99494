"""The ProductStatus contract from Python: writes by the acting participant's own key, one-call reads.

Every write is authorised on chain by the sender's role in the participant
registry; arguments are checked here first so that a typo costs no
transaction and gets a message naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

import ledger.status.errors  # noqa: F401  (registers the contract's revert errors)
from ledger.chain.base import Chain
from ledger.status.errors import StatusInputError
from ledger.status.subjects import PackStatus, subject_id, subject_key

MAX_NOTICE_BYTES = 256
STATUS_READ_CHUNK = 500
"""Subjects per ``statusOf`` call (an answer is 8 words per subject)."""


@dataclass(frozen=True)
class ChainStatus:
    """A subject's status as the contract holds it (``IProductStatus.SubjectStatus``)."""

    key: str
    owner: str | None
    recalled: bool
    recalled_by: str | None
    recalled_at: datetime | None
    recall_reason_hash: str | None
    pack_status: PackStatus
    decommissioned_by: str | None
    decommissioned_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "owner": self.owner, "recalled": self.recalled, "recalledBy": self.recalled_by,
            "recalledAt": _iso(self.recalled_at), "recallReasonHash": self.recall_reason_hash,
            "packStatus": self.pack_status.label if self.pack_status else None,
            "decommissionedBy": self.decommissioned_by, "decommissionedAt": _iso(self.decommissioned_at),
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _hex32(value: bytes) -> str | None:
    return "0x" + bytes(value).hex() if any(value) else None


def _time(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _notice(notice: str) -> str:
    size = len(notice.encode())
    if not notice.strip() or size > MAX_NOTICE_BYTES:
        raise StatusInputError("notice", f"must be 1 to {MAX_NOTICE_BYTES} bytes of text, got {size}")
    return notice


def _reason_hash(reason_hash: bytes | None) -> bytes:
    if reason_hash is None:
        return bytes(32)
    if len(reason_hash) != 32:
        raise StatusInputError("reason_hash", f"must be 32 bytes, got {len(reason_hash)}")
    return reason_hash


def register_lot(*, chain: Chain, contract: Contract, sender: LocalAccount, key: str) -> TxReceipt:
    """Register ``key`` (a lot) as the sender's participant's own; sender holds PRODUCER or MANUFACTURER."""
    return chain.transact(contract.functions.registerLot(subject_key(key)), sender=sender)


def recall(
    *, chain: Chain, contract: Contract, sender: LocalAccount, key: str, notice: str, reason_hash: bytes | None = None
) -> TxReceipt:
    """Recall a lot or item; sender is a REGULATOR or the lot's registered producer."""
    return chain.transact(
        contract.functions.recall(subject_key(key), _notice(notice), _reason_hash(reason_hash)), sender=sender
    )


def withdraw_recall(*, chain: Chain, contract: Contract, sender: LocalAccount, key: str, notice: str) -> TxReceipt:
    """Withdraw a recall in force; sender is a REGULATOR."""
    return chain.transact(contract.functions.withdrawRecall(subject_key(key), _notice(notice)), sender=sender)


def decommission(
    *, chain: Chain, contract: Contract, sender: LocalAccount, key: str, status: PackStatus,
    reason_hash: bytes | None = None,
) -> TxReceipt:
    """Record that a pack was dispensed, stolen or destroyed (once; see IProductStatus.decommission)."""
    if status is PackStatus.NONE:
        raise StatusInputError("status", "must be dispensed, stolen or destroyed")
    return chain.transact(
        contract.functions.decommission(subject_key(key), int(status), _reason_hash(reason_hash)), sender=sender
    )


def read_statuses(
    *, chain: Chain, contract: Contract, keys: Iterable[str], block: int | str = "latest"
) -> dict[str, ChainStatus]:
    """The chain's status of every key (canonical trace keys), one ``statusOf`` call per 500 keys."""
    ordered = list(dict.fromkeys(keys))
    found: dict[str, ChainStatus] = {}
    for start in range(0, len(ordered), STATUS_READ_CHUNK):
        chunk = ordered[start : start + STATUS_READ_CHUNK]
        answers = chain.call(contract.functions.statusOf([subject_id(k) for k in chunk]), block)
        for key, (owner, recalled, by, at, reason, pack, dec_by, dec_at) in zip(chunk, answers):
            found[key] = ChainStatus(
                key=key, owner=_hex32(owner), recalled=recalled, recalled_by=_hex32(by), recalled_at=_time(at),
                recall_reason_hash=_hex32(reason), pack_status=PackStatus(pack),
                decommissioned_by=_hex32(dec_by), decommissioned_at=_time(dec_at),
            )
    return found
