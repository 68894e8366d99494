"""Errors of anchoring: the chain and the index disagree about the log."""

from __future__ import annotations

from ledger.chain.reverts import ContractRevertError
from ledger.errors import LedgerError


class AnchorConflictError(LedgerError):
    """The chain holds a checkpoint of this size with another root than the index.

    Either the index was rewritten after anchoring, or another log anchors to
    the same contract. Anchoring stops: continuing would hide the evidence.
    """

    http_status = 409

    def __init__(self, tree_size: int, index_root: bytes, chain_root: bytes) -> None:
        self.tree_size = tree_size
        self.index_root = index_root
        self.chain_root = chain_root
        super().__init__(
            f"checkpoint {tree_size}: the index's root 0x{index_root.hex()} differs from the anchored "
            f"root 0x{chain_root.hex()}; the index was modified after anchoring, or another log shares this contract"
        )


class CheckpointRefusedError(ContractRevertError):
    """The anchor contract refused a checkpoint that does not extend the last one."""

    http_status = 409
    solidity_errors = ("Anchor__NotGrowing", "Anchor__InconsistentCheckpoint", "Anchor__InvalidProofLength")


class CheckpointsLostError(LedgerError):
    """The chain no longer holds checkpoints the index recorded long ago.

    A reorganisation only drops recent blocks; checkpoints this old missing
    means the chain was reset or replaced. Anchoring stops rather than
    deleting the rows, which are the evidence of what was anchored before.
    """

    http_status = 409

    def __init__(self, sizes: list[int], chain_size: int, window_hours: float) -> None:
        self.sizes = sizes
        super().__init__(
            f"checkpoints of size {sizes} were anchored more than {window_hours:g} h ago (chain time) but the chain's "
            f"latest checkpoint is {chain_size}: the chain was reset or replaced; anchoring stops (run `traceledger audit`)"
        )
