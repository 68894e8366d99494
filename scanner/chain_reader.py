"""The chain, as the user trusts it: what the scanner reads instead of believing the API.

A :class:`ChainReader` is built on contract addresses the *user* trusts (a
data dir manifest, or addresses given on the command line), never the
API's, and reads checkpoints, participants and product status from them
(see :mod:`scanner.verify`, which holds the API's answer against it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.exceptions import Web3Exception

from ledger.bundle import ChainCheckpoint, UnknownCheckpointError, read_chain_checkpoint
from ledger.capture.signing import SigningDomain
from ledger.chain.base import Chain
from ledger.chain.reverts import ContractRevertError
from ledger.errors import ConfigError
from ledger.status.service import ChainStatus, read_statuses
from ledger.status.subjects import subject_id

__all__ = ["ChainParticipant", "ChainReader", "TrustedContracts"]

_ZERO32 = bytes(32)


@dataclass(frozen=True)
class TrustedContracts:
    """Where the scanner reads the truth: addresses from the user, never from the API.

    ``anchor`` is the CheckpointAnchor; the participant registry is read from
    it on chain. ``status`` (ProductStatus) may be None: recalls then go
    unchecked and the verdict is at best PARTLY VERIFIED. ``chain_id``, when
    given, must be the node's. ``registry``, when given (a data dir manifest
    names it), must be the anchor's. ``from_block``: where the contracts were
    deployed, the first block searched for recall notices.
    """

    anchor: str
    status: str | None = None
    chain_id: int | None = None
    registry: str | None = None
    from_block: int = 0
    source: str = "the command line"
    """Where the addresses came from, for messages (``--anchor/--status``, a manifest's path)."""


@dataclass(frozen=True)
class ChainParticipant:
    """A participant as the registry on chain holds it (id as 0x hex, 13-digit GLN, display name)."""

    id: str
    gln: str
    name: str


class ChainReader:
    """Reads checkpoints, participants and product status from the trusted contracts.

    Reads are made at one block, the chain head pinned when a verification
    starts, so one verdict describes one state of the chain. Answers are
    cached (a trace repeats the same few sizes, keys and participants), so
    use one reader per scan. Construction
    checks the trust configuration (chain id, code at the addresses, one
    registry behind both contracts) and raises ConfigError naming the
    problem; a node that stops answering raises ChainError.
    """

    def __init__(self, chain: Chain, trusted: TrustedContracts) -> None:
        self.chain = chain
        self.trusted = trusted
        self.chain_id = chain.chain_id
        if trusted.chain_id is not None and trusted.chain_id != self.chain_id:
            raise ConfigError(
                f"the node at {chain.description} is on chain {self.chain_id}, but the trusted contracts are on "
                f"chain {trusted.chain_id}: wrong RPC URL?"
            )
        self.anchor = self._contract("CheckpointAnchor", trusted.anchor)
        self.registry_address = self._registry_of(self.anchor)
        if trusted.registry is not None and to_checksum_address(trusted.registry) != self.registry_address:
            raise ConfigError(
                f"the anchor contract {self.anchor.address} answers to registry {self.registry_address}, not to "
                f"the trusted registry {trusted.registry}: not the same ledger"
            )
        self.registry = chain.contract("ParticipantRegistry", self.registry_address)
        self.status: Contract | None = None
        if trusted.status is not None:
            self.status = self._contract("ProductStatus", trusted.status)
            status_registry = self._registry_of(self.status)
            if status_registry != self.registry_address:
                raise ConfigError(
                    f"the ProductStatus contract {self.status.address} answers to registry {status_registry}, the "
                    f"anchor contract to {self.registry_address}: they are not of the same ledger"
                )
        self.head = 0
        self.pin_head()
        self._checkpoints: dict[int, ChainCheckpoint | None] = {}
        self._participants: dict[str, ChainParticipant | None] = {}
        self._key_owners: dict[str, str | None] = {}
        self._gln_owners: dict[str, str | None] = {}

    def pin_head(self) -> int:
        """Read the chain head again; status, registry and counts are read at that block from now on."""
        self.head = int(self.chain.w3.eth.block_number)
        return self.head

    def _contract(self, name: str, address: str) -> Contract:
        try:
            checksummed = to_checksum_address(address)
        except ValueError:
            raise ConfigError(f"{name} address {address!r} from {self.trusted.source} is not an address") from None
        if not self.chain.code_at(checksummed):
            raise ConfigError(
                f"no {name} contract at {checksummed} (from {self.trusted.source}) on chain {self.chain_id} "
                f"at {self.chain.description}"
            )
        return self.chain.contract(name, checksummed)

    def _registry_of(self, contract: Contract) -> str:
        try:
            return to_checksum_address(self.chain.call(contract.functions.registry()))
        except (ContractRevertError, ValueError, Web3Exception):
            raise ConfigError(
                f"the contract at {contract.address} (from {self.trusted.source}) does not answer as a traceledger "
                "contract: wrong address?"
            ) from None

    @property
    def anchor_address(self) -> str:
        return self.anchor.address

    @property
    def status_address(self) -> str | None:
        return self.status.address if self.status is not None else None

    @property
    def signing_domain(self) -> SigningDomain:
        """The EIP-712 domain captures are signed in: this chain and the registry behind the anchor."""
        return SigningDomain(chain_id=self.chain_id, verifying_contract=self.registry_address)

    def checkpoint(self, size: int) -> ChainCheckpoint | None:
        """The anchored checkpoint of ``size``, or None if the chain has none."""
        if size not in self._checkpoints:
            try:
                self._checkpoints[size] = read_chain_checkpoint(self.chain, self.anchor, size)
            except UnknownCheckpointError:
                self._checkpoints[size] = None
        return self._checkpoints[size]

    def latest_checkpoint_size(self) -> int:
        """Size of the newest anchored checkpoint (0 if none)."""
        if int(self.chain.call(self.anchor.functions.checkpointCount(), self.head)) == 0:
            return 0
        return int(self.chain.call(self.anchor.functions.latestCheckpoint(), self.head)[0])

    def participant(self, participant_id: str) -> ChainParticipant | None:
        """The registered participant ``participant_id`` (0x hex), or None."""
        wanted = participant_id.lower()
        if wanted not in self._participants:
            try:
                raw = bytes.fromhex(wanted.removeprefix("0x"))
            except ValueError:
                raw = b""
            found = None
            if len(raw) == 32 and raw != _ZERO32:
                try:
                    pid, gln, name, *_ = self.chain.call(self.registry.functions.getParticipant(raw), self.head)
                    found = ChainParticipant("0x" + bytes(pid).hex(), str(gln).zfill(13), str(name))
                except ContractRevertError:
                    found = None
            self._participants[wanted] = found
        return self._participants[wanted]

    def participant_of_key(self, address: str) -> str | None:
        """The participant (0x hex) a signing key belongs or belonged to, or None if never registered."""
        wanted = address.lower()
        if wanted not in self._key_owners:
            try:
                key = to_checksum_address(address)
            except ValueError:  # not an address at all: no key of anyone
                self._key_owners[wanted] = None
                return None
            owner = bytes(self.chain.call(self.registry.functions.participantOf(key), self.head))
            self._key_owners[wanted] = "0x" + owner.hex() if owner != _ZERO32 else None
        return self._key_owners[wanted]

    def participant_of_gln(self, gln: str) -> str | None:
        """The participant registered under a 13-digit GLN, or None."""
        if gln not in self._gln_owners:
            owner = bytes(self.chain.call(self.registry.functions.participantOfGln(int(gln)), self.head))
            self._gln_owners[gln] = "0x" + owner.hex() if owner != _ZERO32 else None
        return self._gln_owners[gln]

    def statuses(self, keys: Iterable[str], block: int) -> dict[str, ChainStatus]:
        """Recall and pack status of ``keys`` at ``block``. Precondition: a ProductStatus contract is trusted."""
        assert self.status is not None
        return read_statuses(chain=self.chain, contract=self.status, keys=keys, block=block)

    def recall_notice(self, key: str) -> str | None:
        """The public text of the recall of ``key`` in force, from the contract's own ``Recalled`` events."""
        assert self.status is not None
        logs = self.status.events.Recalled.get_logs(
            argument_filters={"subject": subject_id(key)}, from_block=self.trusted.from_block, to_block=self.head
        )
        notices = [log["args"]["notice"] for log in logs if log["args"]["key"] == key]
        return notices[-1] if notices else None
