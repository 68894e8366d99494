"""A data dir ready to serve: service key, chain, contracts, index, and one
registered producer whose key signs the captures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.epcis.build import gln, gtin
from ledger.participants.service import register_participant
from ledger.runtime import open_ledger
from tests.reliability.server import ServerProcess
from tests.whitelist.conftest import PASSWORD, make_data_dir

FARM_GLN = gln("952100000001")
PRODUCT = gtin("0952100000010")


@dataclass
class Site:
    settings: Settings  # for opening the data dir in the test process
    producer: LocalAccount  # a PRODUCER's registered key
    database_url: str | None

    def server(self, log_path: Path, **env: str) -> ServerProcess:
        """``traceledger serve`` on this data dir; ``env`` adds ``TRACELEDGER_*`` settings."""
        base = {"TRACELEDGER_KEY_PASSWORD": PASSWORD}
        if self.database_url:
            base["TRACELEDGER_DATABASE_URL"] = self.database_url
        return ServerProcess(self.settings.data_dir, base | env, log_path)


def make_site(tmp_path: Path, *, rpc_url: str | None = None, database_url: str | None = None) -> Site:
    """Initialise a data dir in ``tmp_path`` (the whitelist tests' helper: its
    service key also holds CUSTOMS), on ``rpc_url`` (else the embedded chain)
    and ``database_url`` (else SQLite in the data dir)."""
    with pytest.MonkeyPatch.context() as env:
        if database_url:
            # make_data_dir builds its Settings from the environment for what it is not given.
            env.setenv("TRACELEDGER_DATABASE_URL", database_url)
        settings = make_data_dir(tmp_path, rpc_url=rpc_url)
    producer = Account.create()
    with open_ledger(settings) as ledger:
        register_participant(ledger, gln=FARM_GLN, name="Green Valley Farm", roles=["PRODUCER"], keys=[producer.address])
    return Site(settings=settings, producer=producer, database_url=database_url)
