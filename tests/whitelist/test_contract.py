"""The TraderWhitelist contract: only CUSTOMS writes, directly or through a
relayer with the officer's EIP-712 signature; a dishonest trader holds no
scope; every change is an event, and the history replayed from the events
alone equals the sequence of states. Every test runs on the embedded chain
and on anvil."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from web3.exceptions import ContractLogicError

from ledger.chain.deploy import OPERATOR_GLN, participant_id, role_id
from ledger.whitelist.errors import (
    RelayedSignatureError,
    WhitelistInputError,
    WhitelistRefusedError,
    WhitelistStateError,
    WhitelistUnauthorizedError,
)
from ledger.whitelist.history import read_events, replay, replay_all
from ledger.whitelist.importer import GAS_BASE, GAS_NEW_ENTRY, GAS_UPDATE_ENTRY, gas_budget, max_entries_per_transaction
from ledger.whitelist.model import CreditLevel, Entry, EntryContent, EntryStatus, Verdict
from ledger.whitelist.service import repair_params, set_params
from tests.whitelist.conftest import EXPEDITED, OFFSHORE, REAL_USCCS, YEAR, content, dossier, uscc


def events_of(receipt, wl):
    from ledger.whitelist.history import decode_logs

    return decode_logs(wl.whitelist.contract, receipt["logs"])


# -- who may write ---------------------------------------------------------------------------

def test_a_customs_key_lists_a_trader_and_the_entry_reads_back(wl) -> None:
    code = REAL_USCCS[0]
    receipt = wl.whitelist.set_entry(content(code), sender=wl.admin)
    [event] = events_of(receipt, wl)
    assert (event.kind, event.uscc, event.version, event.officer) == ("EntrySet", code, 1, wl.admin.address)
    entry = wl.whitelist.entry(code)
    expected = content(code)
    assert (entry.level, entry.status, entry.scopes, entry.dossier_hash, entry.version) == (
        CreditLevel.ADVANCED_CERTIFIED, EntryStatus.ACTIVE, OFFSHORE | EXPEDITED, expected.dossier_hash, 1)
    assert entry.updated_at_block == receipt["blockNumber"] and entry.status_reason == ""
    wl.whitelist.set_entry(content(code, scopes=OFFSHORE, evidence="v2"), sender=wl.admin)
    assert wl.whitelist.entry(code).version == 2 and wl.whitelist.entry(code).scopes == OFFSHORE


def test_keys_without_an_active_customs_role_cannot_write(wl) -> None:
    code = uscc(1)
    with pytest.raises(WhitelistUnauthorizedError, match="does not hold CUSTOMS") as info:
        wl.whitelist.set_entry(content(code), sender=wl.stranger)
    assert info.value.http_status == 403 and info.value.args_by_name["account"] == wl.stranger.address
    with pytest.raises(WhitelistUnauthorizedError):
        wl.chain.transact(wl.whitelist.contract.functions.setEntries([content(code).as_input()]), sender=wl.stranger)
    wl.whitelist.set_entry(content(code), sender=wl.admin)
    for write in (lambda s: wl.whitelist.suspend(code, "audit", sender=s),
                  lambda s: wl.whitelist.revoke(code, "fraud", sender=s)):
        with pytest.raises(WhitelistUnauthorizedError):
            write(wl.stranger)
    # Losing the role (the registry's admin revokes it) ends the right to write.
    wl.chain.transact(wl.registry.functions.revokeParticipantRole(participant_id(OPERATOR_GLN), role_id("CUSTOMS")),
                      sender=wl.admin)
    with pytest.raises(WhitelistUnauthorizedError):
        wl.whitelist.set_entry(content(uscc(2)), sender=wl.admin)
    assert not wl.whitelist.entry(uscc(2)).listed


def test_the_contract_refuses_a_dishonest_trader_with_a_scope(wl) -> None:
    code = uscc(3)
    # Python refuses first, before anything is sent...
    with pytest.raises(WhitelistInputError, match="scope: a DISHONEST trader can hold no scope"):
        content(code, level=CreditLevel.DISHONEST, scopes=OFFSHORE)
    # ...and the contract refuses too, for any client that skips that check.
    raw = (code.encode(), int(CreditLevel.DISHONEST), EXPEDITED, 1, 2**40, dossier("x"))
    with pytest.raises(WhitelistRefusedError, match="DISHONEST trader can hold no scope") as info:
        wl.chain.transact(wl.whitelist.contract.functions.setEntry(raw), sender=wl.admin)
    assert info.value.error_name == "Whitelist__DishonestWithScopes"
    good = content(uscc(4))
    with pytest.raises(WhitelistRefusedError, match="DISHONEST"):
        wl.chain.transact(wl.whitelist.contract.functions.setEntries([good.as_input(), raw]), sender=wl.admin)
    assert not wl.whitelist.entry(uscc(4)).listed, "a refused batch writes nothing"
    wl.whitelist.set_entry(content(code, level=CreditLevel.DISHONEST, scopes=0), sender=wl.admin)
    assert wl.whitelist.entry(code).level == CreditLevel.DISHONEST


def test_the_contract_refuses_malformed_content(wl) -> None:
    f, admin = wl.whitelist.contract.functions, wl.admin
    good = content(uscc(5)).as_input()
    bad_check = bytes(good[0][:17]) + (b"0" if good[0][17:] != b"0" else b"1")
    cases = {
        "Whitelist__InvalidUscc": (bad_check, *good[1:]),
        "Whitelist__InvalidLevel": (good[0], 0, *good[2:]),
        "Whitelist__InvalidValidity": (*good[:3], 100, 100, good[5]),
        "Whitelist__ZeroDossierHash": (*good[:5], bytes(32)),
    }
    for name, raw in cases.items():
        with pytest.raises(WhitelistRefusedError) as info:
            wl.chain.transact(f.setEntry(raw), sender=admin)
        assert info.value.error_name == name
    with pytest.raises(WhitelistRefusedError, match="at least one"):
        wl.chain.transact(f.setEntries([]), sender=admin)
    wl.chain.transact(f.setEntry(good), sender=admin)
    with pytest.raises(WhitelistRefusedError, match="1 to 256 bytes"):
        wl.chain.transact(f.suspendEntry(good[0], "x" * 257), sender=admin)
    with pytest.raises(WhitelistRefusedError, match="1 to 256 bytes"):
        wl.chain.transact(f.revokeEntry(good[0], ""), sender=admin)


def test_the_contract_validates_uscc_exactly_as_python_does(embedded_wl) -> None:
    """Same verdict from the contract's USCC library and ledger.whitelist.uscc, on valid and corrupted codes
    (a pure function: the embedded chain suffices)."""
    import random

    from ledger.whitelist.uscc import ALPHABET, UsccError, validate_uscc

    wl = embedded_wl
    rng = random.Random(32100)
    samples = list(REAL_USCCS)
    for _ in range(40):
        prefix = rng.choice(ALPHABET) + rng.choice(ALPHABET) + "".join(rng.choice("0123456789") for _ in range(6)) \
            + "".join(rng.choice(ALPHABET) for _ in range(9))
        code = prefix + "0"
        samples.append(prefix + next(c for c in ALPHABET if _ok(prefix + c)))
        samples.append(code)
    samples += ["91350200776049653B", "9135020077604965IA", "91A50200776049653A", "91350200776049653a"]
    fn = wl.whitelist.contract.functions
    for code in samples:
        try:
            validate_uscc(code)
            python_ok = code == code.upper()
        except UsccError:
            python_ok = False
        raw = (code.encode().ljust(18, b"\0")[:18], 1, 0, 1, 2, dossier(code))
        try:
            fn.setEntry(raw).call({"from": wl.admin.address, "gasPrice": 0})
            chain_ok = True
        except ContractLogicError:
            chain_ok = False
        assert python_ok == chain_ok, code


def _ok(code: str) -> bool:
    from ledger.whitelist.uscc import UsccError, validate_uscc

    try:
        validate_uscc(code)
        return True
    except UsccError:
        return False


# -- relayed writes (EIP-712) ----------------------------------------------------------------

def test_a_relayer_submits_an_officers_signed_change(wl) -> None:
    code = uscc(10)
    request = wl.whitelist.sign("SetEntry", set_params(content(code)), wl.officer)
    assert request.message["nonce"] == 0
    # The relayer holds no role at all: the officer's signature is what authorises the change.
    receipt = wl.whitelist.relay(request, relayer=wl.stranger)
    [event] = events_of(receipt, wl)
    assert event.officer == wl.officer.address and event.version == 1
    assert wl.whitelist.nonce(wl.officer.address) == 1
    suspend = wl.whitelist.sign("SuspendEntry", {"uscc": code.encode(), "reason": "field audit"}, wl.officer)
    assert suspend.message["nonce"] == 1
    [event] = events_of(wl.whitelist.relay(suspend, relayer=wl.stranger), wl)
    assert (event.kind, event.reason, event.officer) == ("EntrySuspended", "field audit", wl.officer.address)
    assert wl.whitelist.entry(code).status == EntryStatus.SUSPENDED


def test_forged_expired_and_replayed_signatures_are_refused(wl) -> None:
    code, w = uscc(11), wl.whitelist
    params = set_params(content(code))

    impostor = Account.create()
    forged = w.sign("SetEntry", params, impostor)
    forged.officer = wl.officer.address  # claims to be the officer
    with pytest.raises(RelayedSignatureError, match="not a signature by officer") as info:
        w.relay(forged, relayer=wl.stranger)
    assert info.value.args_by_name["recovered"] == impostor.address and info.value.http_status == 401

    tampered = w.sign("SetEntry", params, wl.officer)
    tampered.message = {**tampered.message, "scopes": OFFSHORE}  # the relayer changes what was signed
    with pytest.raises(RelayedSignatureError, match="not a signature by officer"):
        w.relay(tampered, relayer=wl.stranger)

    garbage = w.sign("SetEntry", params, wl.officer)
    garbage.signature = b"\x01" * 65
    with pytest.raises(RelayedSignatureError, match="is malformed"):
        w.relay(garbage, relayer=wl.stranger)

    expired = w.sign("SetEntry", params, wl.officer, deadline=int(time.time()) - 3600)
    with pytest.raises(RelayedSignatureError, match="expired"):
        w.relay(expired, relayer=wl.stranger)

    valid = w.sign("SetEntry", params, wl.officer)
    w.relay(valid, relayer=wl.stranger)
    with pytest.raises(RelayedSignatureError, match="already used, i.e. a replay") as info:
        w.relay(valid, relayer=wl.stranger)
    assert info.value.error_name == "Whitelist__InvalidNonce"
    assert w.entry(code).version == 1, "nothing but the one valid change was written"

    # A valid signature of a key without CUSTOMS is refused for the role, not the signature.
    outsider = Account.create()
    with pytest.raises(WhitelistUnauthorizedError):
        w.relay(w.sign("SetEntry", params, outsider), relayer=wl.stranger)

    # A signature is bound to one contract and chain (the domain): another deployment refuses it.
    assert w.typed_data("SetEntry", valid.message)["domain"]["verifyingContract"] == w.address


# -- lifecycle: suspend, lift, revoke, repair, relist ------------------------------------------

def test_status_changes_and_their_refusals(wl) -> None:
    w, admin, code = wl.whitelist, wl.admin, uscc(20)
    with pytest.raises(WhitelistStateError, match="not on the whitelist"):
        w.suspend(code, "audit", sender=admin)
    w.set_entry(content(code), sender=admin)
    with pytest.raises(WhitelistStateError, match="no suspension to lift"):
        w.lift_suspension(code, "ok", sender=admin)
    w.suspend(code, "customs audit 2026-118", sender=admin)
    with pytest.raises(WhitelistStateError, match="only an active entry can be suspended"):
        w.suspend(code, "again", sender=admin)
    assert w.entry(code).status_reason == "customs audit 2026-118"
    # An update while suspended keeps the suspension.
    w.set_entry(content(code, scopes=OFFSHORE, evidence="v2"), sender=admin)
    assert w.entry(code).status == EntryStatus.SUSPENDED
    w.lift_suspension(code, "audit closed", sender=admin)
    assert w.entry(code).status == EntryStatus.ACTIVE
    with pytest.raises(WhitelistStateError, match="credit repair is for DISHONEST"):
        w.repair_credit(code, CreditLevel.GENERAL, dossier("r"), sender=admin)
    w.revoke(code, "false declarations", sender=admin)
    with pytest.raises(WhitelistStateError, match="is revoked"):
        w.revoke(code, "again", sender=admin)
    with pytest.raises(WhitelistStateError, match="only an active entry"):
        w.suspend(code, "x", sender=admin)
    # Listing again after a revocation is a new decision: active, the old reason cleared.
    w.set_entry(content(code, evidence="relisting dossier"), sender=admin)
    entry = w.entry(code)
    assert (entry.status, entry.status_reason, entry.version) == (EntryStatus.ACTIVE, "", 6)


def test_credit_repair_restores_a_dishonest_trader(wl) -> None:
    w, admin, code = wl.whitelist, wl.admin, uscc(21)
    w.set_entry(content(code, level=CreditLevel.DISHONEST, scopes=0), sender=admin)
    with pytest.raises(WhitelistInputError, match="GENERAL or ADVANCED_CERTIFIED"):
        w.repair_credit(code, CreditLevel.DISHONEST, dossier("r"), sender=admin)
    with pytest.raises(WhitelistRefusedError, match="must restore GENERAL or ADVANCED_CERTIFIED"):
        wl.chain.transact(w.contract.functions.repairCredit(code.encode(), 3, dossier("r")), sender=admin)
    receipt = w.repair_credit(code, CreditLevel.GENERAL, dossier("rectification report"), sender=admin)
    [event] = events_of(receipt, wl)
    assert (event.kind, event.previous_level, event.level, event.dossier_hash) == (
        "CreditRepaired", CreditLevel.DISHONEST, CreditLevel.GENERAL, dossier("rectification report"))
    entry = w.entry(code)
    assert (entry.level, entry.scopes, entry.version) == (CreditLevel.GENERAL, 0, 2)
    # Relayed repair works the same way.
    other = uscc(22)
    w.set_entry(content(other, level=CreditLevel.DISHONEST, scopes=0), sender=admin)
    w.relay(w.sign("RepairCredit", repair_params(other, CreditLevel.ADVANCED_CERTIFIED, dossier("aeo")), wl.officer),
            relayer=wl.stranger)
    assert w.entry(other).level == CreditLevel.ADVANCED_CERTIFIED


def test_check_gives_each_verdict(wl) -> None:
    w, admin, now = wl.whitelist, wl.admin, int(time.time())
    cases = {
        uscc(30): (content(uscc(30)), None, Verdict.ALLOWED),
        uscc(31): (None, None, Verdict.UNKNOWN),
        uscc(32): (content(uscc(32)), "revoke", Verdict.REVOKED),
        uscc(33): (content(uscc(33)), "suspend", Verdict.SUSPENDED),
        uscc(34): (content(uscc(34), level=CreditLevel.DISHONEST, scopes=0), None, Verdict.DISHONEST),
        uscc(35): (content(uscc(35), valid_from=now + YEAR, valid_until=now + 2 * YEAR), None, Verdict.NOT_YET_VALID),
        uscc(36): (content(uscc(36), valid_from=now - 2 * YEAR, valid_until=now - YEAR), None, Verdict.EXPIRED),
        uscc(37): (content(uscc(37), scopes=EXPEDITED), None, Verdict.SCOPE_NOT_HELD),
    }
    for code, (entry, change, _) in cases.items():
        if entry is not None:
            w.set_entry(entry, sender=admin)
        if change == "revoke":
            w.revoke(code, "smuggling conviction", sender=admin)
        elif change == "suspend":
            w.suspend(code, "under investigation", sender=admin)
    for code, (_, _, verdict) in cases.items():
        result = w.check(code, OFFSHORE)
        assert result.verdict == verdict, code
        assert result.block.number == wl.chain.w3.eth.block_number
    assert w.check(uscc(37), 0).verdict == Verdict.ALLOWED, "no scope asked: listed in good standing"
    assert wl.chain.call(w.contract.functions.isAllowed(uscc(30).encode(), OFFSHORE | EXPEDITED)) is True
    assert wl.chain.call(w.contract.functions.isAllowed(uscc(37).encode(), OFFSHORE)) is False


# -- history from events alone -----------------------------------------------------------------

def test_history_rebuilt_from_events_alone_equals_the_sequence_of_changes(wl) -> None:
    w, admin, code = wl.whitelist, wl.admin, uscc(40)
    start = wl.chain.w3.eth.block_number
    states: list[Entry] = []
    steps = [
        lambda: w.set_entry(content(code, level=CreditLevel.GENERAL, scopes=OFFSHORE), sender=admin),
        lambda: w.set_entry(content(code, scopes=OFFSHORE | EXPEDITED, evidence="aeo"), sender=admin),
        lambda: w.suspend(code, "inspection", sender=admin),
        lambda: w.lift_suspension(code, "inspection passed", sender=admin),
        lambda: w.relay(w.sign("SetEntry", set_params(content(code, level=CreditLevel.DISHONEST, scopes=0,
                                                              evidence="fraud")), wl.officer), relayer=wl.stranger),
        lambda: w.repair_credit(code, CreditLevel.GENERAL, dossier("rectified"), sender=admin),
        lambda: w.revoke(code, "licence withdrawn", sender=admin),
        lambda: w.set_entry(content(code, level=CreditLevel.GENERAL, scopes=0, evidence="new licence"), sender=admin),
    ]
    for step in steps:
        step()
        w.set_entry(content(uscc(41), evidence=f"noise {len(states)}"), sender=admin)  # another trader, interleaved
        states.append(w.entry(code))

    changes = replay(read_events(wl.chain, w.contract, from_block=start, uscc=code))
    assert [c.entry for c in changes] == states
    assert [c.change for c in changes] == ["listed", "updated", "suspended", "suspension_lifted", "updated",
                                           "credit_repaired", "revoked", "relisted"]
    assert changes[4].event.officer == wl.officer.address
    everything = replay_all(read_events(wl.chain, w.contract, from_block=start, with_times=False))
    assert everything[code] == w.entry(code) and everything[uscc(41)] == w.entry(uscc(41))


# -- batches -----------------------------------------------------------------------------------

def test_batches_fit_the_block_gas_limit_and_the_gas_bounds_hold(wl) -> None:
    """Measures gas per entry and how many fit one block; the importer's bounds must cover the truth."""
    w, admin = wl.whitelist, wl.admin
    head = wl.chain.w3.eth.get_block("latest")
    gas_limit, base_fee = head["gasLimit"], head.get("baseFeePerGas")
    sample = [content(uscc(1000 + i), evidence=f"e{i}") for i in range(50)]
    receipt = wl.chain.wait(w.send_entries(sample, sender=admin, gas=GAS_BASE + 50 * GAS_NEW_ENTRY))
    per_new = (receipt["gasUsed"] - 21_000) / 50
    assert per_new < GAS_NEW_ENTRY * 0.95, per_new
    updates = [content(uscc(1000 + i), evidence=f"e{i} v2") for i in range(50)]
    receipt = wl.chain.wait(w.send_entries(updates, sender=admin, gas=GAS_BASE + 50 * GAS_UPDATE_ENTRY))
    assert (receipt["gasUsed"] - 21_000) / 50 < GAS_UPDATE_ENTRY * 0.9
    fits = int((gas_limit - 21_000) // per_new)
    per_tx = max_entries_per_transaction(gas_limit, base_fee)
    print(f"\n[{wl.chain.kind}] block gas limit {gas_limit:,}, base fee {base_fee}: {per_new:,.0f} gas per new entry, "
          f"{fits} new entries fit one block; the importer sends {per_tx} per transaction")
    assert per_tx < fits and per_tx >= 135
    full = [content(uscc(5000 + i), evidence=f"f{i}") for i in range(per_tx)]
    receipt = wl.chain.wait(w.send_entries(full, sender=admin, gas=GAS_BASE + per_tx * GAS_NEW_ENTRY))
    assert receipt["gasUsed"] < gas_budget(gas_limit, base_fee)
    assert w.entries([uscc(5000 + i) for i in range(per_tx)]) == [w.entry(uscc(5000 + i)) for i in range(per_tx)]
    assert all(e.version == 1 for e in w.entries([uscc(5000 + i) for i in range(per_tx)]))
    # A zero base fee stays zero: zero-priced transactions still go through afterwards.
    assert wl.chain.w3.eth.get_block("latest").get("baseFeePerGas") == base_fee or base_fee != 0
    w.set_entry(content(uscc(999)), sender=admin)


def test_entry_content_checks_the_window(wl) -> None:
    with pytest.raises(WhitelistInputError, match="valid_until: must be after valid_from"):
        EntryContent(uscc(1), CreditLevel.GENERAL, 0, 200, 100, dossier("x"))
