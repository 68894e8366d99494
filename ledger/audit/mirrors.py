"""Audit the index's mirrors of the contracts against the chain's events.

Capture authorises signers from the participants mirror and judges trader
claims from the whitelist mirror; consumer pages read recalls and pack
status from the product-status mirror. An edit there would let capture
accept what the chain refuses, or hide a recall, with the log intact.

Each mirror is rebuilt in a scratch database by its own indexer, reading the
chain's events up to the block the stored mirror says it has read (its
cursor), and every table is compared row by row (events by block and log
index: their surrogate ids are numbered afresh by a rebuild).

Preconditions: the chain node answers ``eth_getLogs`` from the contracts'
deployment on (an archive of events, which every node keeps).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from ledger.audit.report import AuditReport, Discrepancy
from ledger.audit.rows import compare_table, snapshot
from ledger.chain.mirror import ContractCursor
from ledger.crossborder.sync import whitelist_mirror
from ledger.index.db import create_index_engine
from ledger.participants.models import ChainCursor, Participant, ParticipantKey, RegistryEvent
from ledger.participants.service import registry_indexer
from ledger.status.mirror import status_mirror
from ledger.status.models import ProductStatusEvent, ProductStatusRow
from ledger.whitelist.models import WhitelistEventRow

_EVENT_KEY = ("block_number", "log_index")
_contract_cursor = ContractCursor.__table__
_chain_cursor = ChainCursor.__table__


@dataclass(frozen=True)
class MirrorSpec:
    """One mirror: how to build its indexer on an engine, where its cursor is, and what it holds."""

    name: str
    indexer: Callable[[Any], Any]  # ledger (with the engine to write to) -> indexer with sync(until=...)
    cursor: Callable[[Connection, Any], tuple[int, str] | None]  # (stored block number, hash), read in the snapshot
    tables: Sequence[tuple[sa.Table, Sequence[str] | None]]  # (table, natural key or None for the primary key)


def _contract_cursor_of(contract_name: str) -> Callable[[Connection, Any], tuple[int, str] | None]:
    def read(conn: Connection, ledger: Any) -> tuple[int, str] | None:
        address = ledger.manifest.contracts.get(contract_name)
        if address is None:  # a data dir from before this contract existed mirrors nothing of it
            return None
        row = conn.execute(sa.select(_contract_cursor.c.block_number, _contract_cursor.c.block_hash)
                           .where(_contract_cursor.c.contract == address)).first()
        return None if row is None else (row[0], row[1])
    return read


def _registry_cursor(conn: Connection, ledger: Any) -> tuple[int, str] | None:
    name = registry_indexer(ledger).cursor_name
    row = conn.execute(sa.select(_chain_cursor.c.block_number, _chain_cursor.c.block_hash)
                       .where(_chain_cursor.c.name == name)).first()
    return None if row is None else (row[0], row[1])


MIRRORS = (
    MirrorSpec("participants", registry_indexer, _registry_cursor,
               ((RegistryEvent.__table__, _EVENT_KEY), (Participant.__table__, None), (ParticipantKey.__table__, None))),
    MirrorSpec("whitelist", whitelist_mirror, _contract_cursor_of("TraderWhitelist"),
               ((WhitelistEventRow.__table__, ("contract", *_EVENT_KEY)),)),
    MirrorSpec("product status", status_mirror, _contract_cursor_of("ProductStatus"),
               ((ProductStatusEvent.__table__, ("contract", *_EVENT_KEY)), (ProductStatusRow.__table__, None))),
)

_SCRATCH_TABLES = [ContractCursor.__table__, ChainCursor.__table__] + [t for spec in MIRRORS for t, _ in spec.tables]


def audit_mirrors(ledger: Any, report: AuditReport) -> None:
    """Rebuild each mirror of ``ledger``'s index from the chain, up to its cursor, and add every difference to ``report``."""
    started = time.perf_counter()
    found = report.discrepancies.append
    assert ledger.engine is not None
    with tempfile.TemporaryDirectory(prefix="traceledger-audit-") as scratch_dir:
        scratch = create_index_engine(f"sqlite:///{Path(scratch_dir) / 'mirrors.sqlite'}")
        try:
            SQLModel.metadata.create_all(scratch, tables=_SCRATCH_TABLES)
            on_scratch = dataclasses.replace(ledger, engine=scratch, _contracts={})
            with snapshot(ledger.engine) as source:
                for spec in MIRRORS:
                    cursor = spec.cursor(source, ledger)
                    if cursor is not None and ledger.chain.block_hash_at(cursor[0]) != cursor[1]:
                        found(Discrepancy(f"{spec.name} mirror", f"its cursor, block {cursor[0]} {cursor[1]}, is not on the "
                                                                 "chain: it follows a branch a reorganisation dropped (the "
                                                                 "next sync rewinds it; audit again then), or was edited"))
                        continue
                    if cursor is not None:  # none: nothing mirrored yet, and the rebuild stays empty
                        spec.indexer(on_scratch).sync(until=cursor[0])
                    with scratch.connect() as rebuilt:
                        for table, key in spec.tables:
                            report.mirror_rows += compare_table(
                                table, source, rebuilt, found, key=key, ignore=("id",), truth="the chain")
        finally:
            scratch.dispose()
    report.mirrors_audited = True
    report.mirror_seconds = time.perf_counter() - started
