"""Evidence links: what proves a fact, in the form a profile cites it.

- ``event``: an EPCIS event of the log, by hash ID and log index; an export
  carries its record and inclusion proof, and ``claims`` says what the fact
  relies on in it (the identifier it names, its bizStep or disposition, the
  participant that signed it), so a verifier re-reads exactly that;
- ``checkpoint``: an anchored checkpoint (tree size, root, transaction);
- ``transaction``: a chain transaction and the contract event (log) in it
  that carries the fact (a recall, a whitelist change...);
- ``refusal``: a capture the service refused. Refusals are kept in the index
  but never enter the log (nothing was accepted), so they are the index's
  word: a verifier reports them as such.
"""

from __future__ import annotations

from typing import Any

EVENT = "event"
CHECKPOINT = "checkpoint"
TRANSACTION = "transaction"
REFUSAL = "refusal"


def event_ref(hash_id: str, log_index: int, **claims: str | None) -> dict[str, Any]:
    """An event link; ``claims`` (names, bizStep, disposition, by) holds only what is given."""
    ref: dict[str, Any] = {"kind": EVENT, "eventHashID": hash_id, "logIndex": int(log_index)}
    given = {name: value for name, value in claims.items() if value is not None}
    if given:
        ref["claims"] = given
    return ref


def checkpoint_ref(tree_size: int, root: bytes | str, tx_hash: str | None, block: int | None,
                   contract: str | None = None) -> dict[str, Any]:
    root_hex = root if isinstance(root, str) else "0x" + bytes(root).hex()
    return {"kind": CHECKPOINT, "treeSize": int(tree_size), "root": root_hex, "tx": tx_hash, "block": block,
            "contract": contract}


def transaction_ref(tx_hash: str, block: int, *, contract: str | None, contract_name: str, event: str,
                    log_index: int, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """A transaction link naming the contract event that carries the fact, and the event arguments it relies on."""
    return {"kind": TRANSACTION, "txHash": tx_hash, "block": int(block), "contract": contract,
            "contractName": contract_name, "event": event, "logIndex": int(log_index), "args": dict(args or {})}


def refusal_ref(capture_id: str, at: str | None, reason: str | None) -> dict[str, Any]:
    return {"kind": REFUSAL, "captureID": capture_id, "at": at, "reason": reason}

