"""The index mirror of the whitelist's events (SQLite and PostgreSQL, embedded
chain and anvil, a reorg on anvil) and the bulk importer: batches packed to
the gas limit, a failure mid-way resumed without duplicates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger.chain.base import ChainTimeoutError
from ledger.chain.rpc import RpcChain
from ledger.errors import ChainError
from ledger.whitelist.errors import WhitelistInputError, WhitelistUnauthorizedError
from ledger.whitelist.history import read_events, replay, replay_all
from ledger.whitelist.importer import Importer, max_entries_per_transaction, parse_csv
from ledger.whitelist.mirror import WhitelistMirror
from ledger.whitelist.model import CreditLevel, EntryStatus
from ledger.whitelist.models import WhitelistEventRow, WhitelistImport, WhitelistImportBatch, WhitelistTrader
from tests.whitelist.conftest import content, uscc

HEADER = "uscc,name,level,scopes,valid_from,valid_until,dossier_sha256\n"


def customs_list(n: int, *, offset: int = 0, evidence: str = "a") -> bytes:
    """A customs list of n traders, mixed levels and scopes, as a CSV file's bytes."""
    lines = [HEADER]
    levels = ("ADVANCED_CERTIFIED", "GENERAL", "GENERAL", "DISHONEST")
    scopes = ("OFFSHORE_TRADE|EXPEDITED_CLEARANCE", "OFFSHORE_TRADE", "", "")
    for i in range(offset, offset + n):
        k = i % 4
        digest = f"{i:08x}{evidence}".encode().hex().ljust(64, "0")[:64]
        lines.append(f"{uscc(i, '440300')},Trader {i} Co. Ltd.,{levels[k]},{scopes[k]},2026-01-01,"
                     f"2028-12-31T23:59:59+08:00,{digest}\n")
    return "".join(lines).encode()


def event_count(engine, contract: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(WhitelistEventRow)
                            .where(WhitelistEventRow.contract == contract)).scalar_one()


# -- mirror ------------------------------------------------------------------------------------

def test_the_mirror_follows_the_chain_and_rebuilds_from_it(wl, engine) -> None:
    w, admin = wl.whitelist, wl.admin
    start = wl.chain.w3.eth.block_number
    mirror = WhitelistMirror(engine, wl.chain, w.contract, start_block=start)
    assert mirror.sync().events == 0
    w.set_entry(content(uscc(1)), sender=admin)
    w.suspend(uscc(1), "audit", sender=admin)
    wl.chain.wait(w.send_entries([content(uscc(i)) for i in range(2, 12)], sender=admin, gas=2_000_000))
    report = mirror.sync()
    assert report.events == 12 and mirror.sync().events == 0, "a second sync stores nothing twice"
    from_chain = read_events(wl.chain, w.contract, from_block=start)
    assert mirror.events() == from_chain
    assert replay(mirror.events(uscc(1)))[-1].entry == w.entry(uscc(1))
    # Drop the mirror: syncing again rebuilds it from the chain alone.
    with engine.begin() as conn:
        conn.execute(sa.delete(WhitelistEventRow))
        conn.exec_driver_sql("DELETE FROM contract_cursor")
    mirror.sync()
    assert mirror.events() == from_chain
    assert replay_all(mirror.events()) == {e.uscc: e for e in w.entries([uscc(i) for i in range(1, 12)])}


@pytest.mark.anvil
def test_the_mirror_rewinds_after_a_reorg(anvil, sqlite_engine) -> None:
    """anvil's evm_snapshot/evm_revert stand in for a reorg: blocks the mirror read are replaced."""
    from eth_account import Account

    from ledger.chain.deploy import OPERATOR_GLN, deploy_contracts, participant_id, role_id
    from ledger.whitelist.service import Whitelist
    from tests.support import fund

    with RpcChain(anvil.url) as chain:
        admin = Account.create()
        fund(chain, admin.address)
        addresses = deploy_contracts(chain, admin)
        registry = chain.contract("ParticipantRegistry", addresses["ParticipantRegistry"])
        chain.transact(registry.functions.grantParticipantRole(participant_id(OPERATOR_GLN), role_id("CUSTOMS")), sender=admin)
        w = Whitelist(chain, chain.contract("TraderWhitelist", addresses["TraderWhitelist"]))
        mirror = WhitelistMirror(sqlite_engine, chain, w.contract, start_block=chain.w3.eth.block_number)
        w.set_entry(content(uscc(1)), sender=admin)
        snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
        w.set_entry(content(uscc(2), evidence="lost in the reorg"), sender=admin)
        w.suspend(uscc(1), "lost in the reorg", sender=admin)
        mirror.sync()
        assert len(mirror.events()) == 3
        chain.w3.provider.make_request("evm_revert", [snapshot])
        chain._nonces.forget(admin.address)
        chain.w3.provider.make_request("evm_mine", [])  # a different block at the old height
        w.set_entry(content(uscc(3), evidence="the new branch"), sender=admin)
        report = mirror.sync()
        assert report.rewound_to is not None
        assert [(e.uscc, e.kind) for e in mirror.events()] == [(uscc(1), "EntrySet"), (uscc(3), "EntrySet")]
        assert mirror.events() == read_events(chain, w.contract, from_block=mirror.start_block)


# -- import ------------------------------------------------------------------------------------

def test_a_csv_with_problems_is_refused_whole_with_line_numbers() -> None:
    good = customs_list(3).decode().splitlines()
    bad = "\n".join([good[0], good[1],
                     good[2].replace(good[2][:18], "91440300I00000001X"),
                     good[3].replace("GENERAL", "PLATINUM", 1) if "GENERAL" in good[3] else good[3].replace("DISHONEST", "PLATINUM"),
                     good[1]]) + "\n"
    with pytest.raises(WhitelistInputError) as info:
        parse_csv(bad.encode(), source="list.csv")
    message = info.value.message
    assert message.startswith("list.csv: 3 invalid row(s), nothing was sent")
    assert "line 3: uscc: character 'I' at position 9 is not allowed" in message
    assert "line 4: level: unknown credit level 'PLATINUM'" in message
    assert "line 5: uscc: " in message and "is already on line 2" in message
    with pytest.raises(WhitelistInputError, match="missing column"):
        parse_csv(b"uscc,name\n91350200776049653A,x\n")
    dishonest_scope = HEADER + f"{uscc(1)},x,DISHONEST,OFFSHORE_TRADE,1,2,{'ab' * 32}\n"
    with pytest.raises(WhitelistInputError, match="line 2: scope: a DISHONEST trader can hold no scope"):
        parse_csv(dishonest_scope.encode())


def test_import_packs_batches_and_a_rerun_changes_nothing(wl, sqlite_engine) -> None:
    data = customs_list(600)
    importer = Importer(wl.whitelist, sqlite_engine, wl.admin)
    report = importer.run(data, name="customs-2026.csv")
    assert (report.rows, report.written, report.unchanged) == (600, 600, 0)
    head = wl.chain.w3.eth.get_block("latest")
    per_tx = max_entries_per_transaction(head["gasLimit"], head.get("baseFeePerGas"))
    assert report.transactions == math.ceil(600 / per_tx) and report.batch_sizes[0] == per_tx, report.batch_sizes
    again = importer.run(data, name="customs-2026.csv")
    assert (again.written, again.unchanged, again.transactions) == (0, 600, 0)
    entries = wl.whitelist.entries([uscc(i, "440300") for i in range(600)])
    assert all(e.version == 1 and e.status == EntryStatus.ACTIVE for e in entries)
    assert entries[3].level == CreditLevel.DISHONEST and entries[0].scopes == 3
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(WhitelistTrader)).scalar_one() == 600


def test_an_import_interrupted_mid_way_resumes_without_duplicates(wl, sqlite_engine, monkeypatch) -> None:
    data = customs_list(300)
    w = wl.whitelist
    real_send = type(w).send_entries
    sent = []

    def failing_send(self, contents, **kwargs):
        if len(sent) == 2:
            raise ChainError("chain node http://node:8545 is unreachable: ConnectionError (simulated)")
        sent.append(len(contents))
        return real_send(self, contents, **kwargs)

    monkeypatch.setattr(type(w), "send_entries", failing_send)
    with pytest.raises(ChainError, match="simulated"):
        Importer(w, sqlite_engine, wl.admin, batch_size=50).run(data, name="list.csv")
    monkeypatch.setattr(type(w), "send_entries", real_send)
    with sqlite_engine.connect() as conn:
        first = conn.execute(sa.select(WhitelistImport.status, WhitelistImport.last_error)).one()
    assert first.status == "failed" and "simulated" in first.last_error
    assert sum(e.listed for e in w.entries([uscc(i, "440300") for i in range(300)])) == 100

    resumed = Importer(w, sqlite_engine, wl.admin, batch_size=50).run(data, name="list.csv")
    assert resumed.resumed and (resumed.written, resumed.unchanged, resumed.transactions) == (200, 100, 4)
    entries = w.entries([uscc(i, "440300") for i in range(300)])
    assert all(e.version == 1 for e in entries), "no trader got a duplicate version"
    assert len(read_events(wl.chain, w.contract, from_block=0, with_times=False)) == 300
    with sqlite_engine.connect() as conn:
        journal = conn.execute(sa.select(WhitelistImport.status, WhitelistImport.runs, WhitelistImport.written,
                                         WhitelistImport.transactions)).one()
        batches = conn.execute(sa.select(WhitelistImportBatch.status)).scalars().all()
    assert tuple(journal) == ("done", 2, 200, 4) and batches == ["mined"] * 6


def test_a_transaction_in_flight_at_the_crash_is_settled_not_resent(wl, sqlite_engine, monkeypatch) -> None:
    data = customs_list(120)
    chain = wl.chain
    real_wait = type(chain).wait

    def crash_on_wait(self, tx_hash):
        raise ChainTimeoutError("no receipt (simulated crash while waiting)")

    monkeypatch.setattr(type(chain), "wait", crash_on_wait)
    with pytest.raises(ChainError, match="stays recorded"):
        Importer(wl.whitelist, sqlite_engine, wl.admin, batch_size=50, in_flight=1).run(data, name="l.csv")
    monkeypatch.setattr(type(chain), "wait", real_wait)
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(WhitelistImportBatch.status)).scalars().all() == ["sent"]
    report = Importer(wl.whitelist, sqlite_engine, wl.admin, batch_size=50).run(data, name="l.csv")
    assert report.settled_in_flight == 1 and report.unchanged == 50 and report.written == 70
    assert all(e.version == 1 for e in wl.whitelist.entries([uscc(i, "440300") for i in range(120)]))


def test_import_changes_only_what_changed_and_leaves_revoked_traders(wl, sqlite_engine) -> None:
    importer = Importer(wl.whitelist, sqlite_engine, wl.admin)
    importer.run(customs_list(20), name="v1.csv")
    wl.whitelist.revoke(uscc(5, "440300"), "revoked after the list was drawn up", sender=wl.admin)
    lines = customs_list(20).decode().splitlines(keepends=True)
    lines[3] = lines[3].replace("2028-12-31", "2029-12-31")  # trader 2 renewed
    report = importer.run("".join(lines).encode(), name="v2.csv")
    assert (report.written, report.unchanged, report.revoked_skipped) == (1, 18, [uscc(5, "440300")])
    assert wl.whitelist.entry(uscc(2, "440300")).version == 2
    assert wl.whitelist.entry(uscc(5, "440300")).status == EntryStatus.REVOKED
    relist = Importer(wl.whitelist, sqlite_engine, wl.admin, relist_revoked=True).run("".join(lines).encode(), name="v2.csv")
    assert relist.written == 1 and wl.whitelist.entry(uscc(5, "440300")).status == EntryStatus.ACTIVE


def test_import_by_a_key_without_customs_fails_before_sending(wl, sqlite_engine) -> None:
    before = wl.chain.w3.eth.get_transaction_count(wl.stranger.address)
    with pytest.raises(WhitelistUnauthorizedError):
        Importer(wl.whitelist, sqlite_engine, wl.stranger).run(customs_list(5), name="x.csv")
    assert wl.chain.w3.eth.get_transaction_count(wl.stranger.address) == before


def test_import_file_errors(wl, sqlite_engine, tmp_path: Path) -> None:
    importer = Importer(wl.whitelist, sqlite_engine, wl.admin)
    with pytest.raises(WhitelistInputError, match="cannot read"):
        importer.run_file(tmp_path / "missing.csv")
    with pytest.raises(WhitelistInputError, match="holds no rows"):
        importer.run(HEADER.encode(), name="empty.csv")
