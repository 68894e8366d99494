"""EIP-712 signatures over a capture: the list of its events' hash IDs and a nonce.

Typed data (any EIP-712 wallet can show and sign it)::

    EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
    Capture(bytes32[] eventHashes,uint256 nonce)

``eventHashes`` are the SHA-256 digests inside the events' ``ni:///sha-256;…``
hash IDs, in document order; the domain names the chain and the participant
registry, so a signature is worthless on another ledger. The digest is
computed here directly from the EIP-712 rules (an array of ``bytes32``
encodes as the keccak of their concatenation), which keeps a 10,000-event
capture cheap; a test checks it against eth-account's generic encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from ledger.errors import LedgerError

DOMAIN_NAME = "traceledger"
DOMAIN_VERSION = "1"
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_CAPTURE_TYPEHASH = keccak(text="Capture(bytes32[] eventHashes,uint256 nonce)")
HASH_ID_PREFIX = "ni:///sha-256;"


class SignatureError(LedgerError):
    """A capture's signature is missing, malformed, or not by the claimed key."""

    http_status = 401


@dataclass(frozen=True)
class SigningDomain:
    chain_id: int
    verifying_contract: str

    def as_typed_data(self) -> dict:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def separator(self) -> bytes:
        return keccak(
            _DOMAIN_TYPEHASH
            + keccak(text=DOMAIN_NAME)
            + keccak(text=DOMAIN_VERSION)
            + self.chain_id.to_bytes(32, "big")
            + bytes(12)
            + bytes.fromhex(to_checksum_address(self.verifying_contract)[2:])
        )


def hash_id_digest(hash_id: str) -> bytes:
    """The 32-byte SHA-256 digest inside an ``ni:///sha-256;<hex>?ver=…`` hash ID."""
    if not hash_id.startswith(HASH_ID_PREFIX):
        raise SignatureError(f"event hash ID {hash_id!r} is not of the form ni:///sha-256;<hex>")
    hex_part = hash_id[len(HASH_ID_PREFIX):].split("?", 1)[0]
    try:
        digest = bytes.fromhex(hex_part)
    except ValueError:
        raise SignatureError(f"event hash ID {hash_id!r} has a non-hex digest") from None
    if len(digest) != 32:
        raise SignatureError(f"event hash ID {hash_id!r} does not hold a 32-byte digest")
    return digest


def capture_digest(domain: SigningDomain, hash_ids: Sequence[str], nonce: int) -> bytes:
    """The EIP-712 digest a submitter signs for a capture."""
    if not 0 <= nonce < 2**256:
        raise SignatureError("nonce must be an unsigned 256-bit integer")
    events = keccak(b"".join(hash_id_digest(h) for h in hash_ids))
    struct = keccak(_CAPTURE_TYPEHASH + events + nonce.to_bytes(32, "big"))
    return keccak(b"\x19\x01" + domain.separator() + struct)


def sign_capture(account: LocalAccount, domain: SigningDomain, hash_ids: Sequence[str], nonce: int) -> str:
    signed = Account.unsafe_sign_hash(capture_digest(domain, hash_ids, nonce), account.key)
    return "0x" + bytes(signed.signature).hex()


def recover_signer(domain: SigningDomain, hash_ids: Sequence[str], nonce: int, signature: str) -> str:
    """The address whose key made ``signature`` (a forged one recovers some other address)."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise SignatureError("signature is not hex") from None
    if len(raw) != 65:
        raise SignatureError(f"signature must be 65 bytes (r, s, v), got {len(raw)}")
    try:
        return Account._recover_hash(capture_digest(domain, hash_ids, nonce), signature=raw)
    except Exception as exc:  # eth-keys rejects malformed r/s/v values
        raise SignatureError(f"signature cannot be recovered: {exc}") from None
