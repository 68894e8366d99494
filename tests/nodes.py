"""A served ledger for tests: a data dir served by the app, its participants registered with keys of their own.

The conftests of tests/capture, tests/crossborder and tests/trace build their
node with :func:`served_node`; what each then records or configures stays in
its own conftest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import init_data_dir
from ledger.client import LedgerClient
from ledger.config import Settings
from ledger.epcis.build import gln
from ledger.participants.service import register_participant
from ledger.runtime import Ledger

Parties = Mapping[str, tuple[str, str, Sequence[str]]]
"""Party name -> (GLN without its check digit, participant name, roles)."""


def node_settings(root: Path, **overrides: Any) -> Settings:
    """Settings of a data dir initialised at ``root / "node"`` (key password "pw"; the served anchorer anchors
    at most 0.2 s after a capture). ``overrides`` are further Settings fields, e.g. ``database_url``.
    Precondition: ``root / "node"`` does not hold a data dir yet."""
    settings = Settings(data_dir=root / "node", key_password="pw", anchor_max_delay=0.2, **overrides)
    init_data_dir(settings)
    return settings


def register_parties(ledger: Ledger, parties: Parties) -> dict[str, LocalAccount]:
    """Register each of ``parties`` with a new key of its own, in order; returns party name -> key.
    Precondition: none of their GLNs is registered yet."""
    keys = {}
    for party, (gln_body, name, roles) in parties.items():
        keys[party] = Account.create()
        register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
    return keys


@dataclass
class ServedNode:
    """The served app (``http``), its ledger, and the key of each registered party."""

    http: TestClient
    ledger: Ledger
    keys: dict[str, LocalAccount]
    parties: Parties

    def client(self, party: str) -> LedgerClient:
        """A ledger client signing with ``party``'s key and talking to the served app."""
        return LedgerClient(account=self.keys[party], http=self.http)

    def gln(self, party: str) -> str:
        """``party``'s 13-digit GLN."""
        return gln(self.parties[party][0])


NodeType = TypeVar("NodeType", bound=ServedNode)


@contextmanager
def served_node(
    settings: Settings, parties: Parties, *, node_type: type[NodeType], app: FastAPI | None = None
) -> Iterator[NodeType]:
    """Serve ``app`` (by default ``create_app(settings)``) until the block ends, with ``parties`` registered.

    ``node_type`` is ServedNode or a subclass adding what a suite needs.
    Precondition: ``settings`` names an initialised data dir (see
    :func:`node_settings`) whose service key may register participants.
    """
    with TestClient(app if app is not None else create_app(settings)) as http:
        ledger = http.app.state.ledger
        yield node_type(http, ledger, register_parties(ledger, parties), parties)
