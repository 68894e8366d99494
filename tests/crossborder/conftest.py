"""A served node for cross-border tests: the operator holds CUSTOMS (it writes the
whitelist), a customs office (CUSTOMS) records clearances, an exporter and a
carrier (DISTRIBUTOR) record declarations; traders of every standing are on
chain and mirrored into the index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.crossborder.sync import sync_whitelist_mirror
from ledger.whitelist.model import SCOPES, CreditLevel
from ledger.whitelist.queries import save_name
from ledger.whitelist.service import Whitelist
from tests.nodes import ServedNode, served_node
from tests.whitelist.conftest import YEAR, content, make_data_dir, uscc

EXPEDITED = SCOPES["EXPEDITED_CLEARANCE"]
OFFSHORE = SCOPES["OFFSHORE_TRADE"]
NOW = int(time.time())

PARTIES = {
    "exporter": ("952200000001", "Xiamen Export Co.", ["DISTRIBUTOR"]),
    "carrier": ("952200000002", "Swift Logistics", ["DISTRIBUTOR"]),
    "customs": ("952200000003", "Xiamen Customs", ["CUSTOMS"]),
    "customs2": ("952200000004", "Fuzhou Customs", ["CUSTOMS"]),
}

TRADERS = {
    "aeo": uscc(200),            # ADVANCED_CERTIFIED, OFFSHORE_TRADE + EXPEDITED_CLEARANCE
    "revoked": uscc(201),
    "expired": uscc(202),
    "dishonest": uscc(203),
    "general": uscc(204),        # GENERAL, OFFSHORE_TRADE only
    "unknown": uscc(205),        # never listed
    "suspended": uscc(206),
    "later": uscc(207),          # annotate test: set, capture, revoke, capture
    "past": uscc(208),           # revoked after an event dated before the revocation
}
NAMES = {
    "aeo": "Xiamen Harbour <Trading> & Co.",
    "revoked": "Revoked Trading Ltd",
    "general": "General Goods Ltd",
}


class Node(ServedNode):
    """The served node, and the whitelist as its chain holds it."""

    @property
    def whitelist(self) -> Whitelist:
        return Whitelist.from_ledger(self.ledger)

    def chain_time(self) -> int:
        return self.whitelist.latest_block().timestamp

    def at_chain(self) -> datetime:
        """The latest block's time: a change mined later is not in force yet at this moment."""
        return datetime.fromtimestamp(self.chain_time(), UTC)

    def after_chain(self, seconds: int = 1) -> datetime:
        """A moment after the latest block (the embedded chain's clock runs ahead of the wall clock)."""
        return datetime.fromtimestamp(max(time.time(), self.chain_time()) + seconds, UTC)

    def sync(self) -> None:
        sync_whitelist_mirror(self.ledger)


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[Node]:
    settings = make_data_dir(tmp_path_factory.mktemp("crossborder"))
    with served_node(settings, PARTIES, node_type=Node) as node:
        ledger = node.ledger
        w, sender, t = Whitelist.from_ledger(ledger), ledger.service_account, TRADERS
        w.set_entry(content(t["aeo"]), sender=sender)
        w.set_entry(content(t["revoked"]), sender=sender)
        w.revoke(t["revoked"], "smuggling conviction (case 2026-0420)", sender=sender)
        w.set_entry(content(t["expired"], valid_from=NOW - 2 * YEAR, valid_until=NOW - YEAR), sender=sender)
        w.set_entry(content(t["dishonest"], level=CreditLevel.DISHONEST, scopes=0), sender=sender)
        w.set_entry(content(t["general"], level=CreditLevel.GENERAL, scopes=OFFSHORE), sender=sender)
        w.set_entry(content(t["suspended"]), sender=sender)
        w.suspend(t["suspended"], "under investigation", sender=sender)
        for key, name in NAMES.items():
            save_name(ledger.engine, t[key], name)
        node.sync()
        yield node
