"""Keep the index's mirror of the whitelist current (capture judges claims from it).

:func:`sync_whitelist_mirror` brings it to the chain's head once;
:func:`follow_whitelist` does so every few seconds until stopped, for a
background thread of the server (``threading.Thread(target=follow_whitelist,
args=(stop_event, ledger))``, the same shape as the registry indexer's
``run``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ledger.errors import LedgerError
from ledger.whitelist.mirror import SyncReport, WhitelistMirror
from ledger.whitelist.service import CONTRACT_NAME

logger = logging.getLogger(__name__)


def whitelist_mirror(ledger: Any) -> WhitelistMirror:
    return WhitelistMirror(ledger.engine, ledger.chain, ledger.contract(CONTRACT_NAME),
                           start_block=ledger.manifest.deployed_block)


def sync_whitelist_mirror(ledger: Any) -> SyncReport:
    """Read the whitelist's new events into the index (raises ChainError if the node is unreachable)."""
    return whitelist_mirror(ledger).sync()


def try_sync(ledger: Any) -> tuple[bool, str | None]:
    """Sync if the chain answers; (synced, why not) otherwise, so a reader can still use the mirror."""
    try:
        sync_whitelist_mirror(ledger)
    except LedgerError as error:
        logger.warning("whitelist mirror: sync failed (%s); answering from the mirror as it is", error.message)
        return False, error.message
    return True, None


def follow_whitelist(stop_event: threading.Event, ledger: Any, interval: float = 2.0) -> None:
    """Keep the mirror current until ``stop_event`` is set; failures back off up to 30 s."""
    whitelist_mirror(ledger).follow(stop_event, interval)
