"""Behaviour both chain adapters share, on the embedded chain and on anvil."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.chain.base import Chain, ChainTimeoutError
from ledger.chain.rpc import RpcChain
from ledger.errors import ChainError


def test_pipelined_transactions_get_consecutive_nonces(chain: Chain, make_account) -> None:
    sender, receiver = make_account(), Account.create()
    hashes = [chain.send_value_async(receiver.address, 1_000 + i, sender=sender) for i in range(15)]
    receipts = [chain.wait(h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    assert chain.w3.eth.get_balance(receiver.address) == sum(1_000 + i for i in range(15))
    assert chain.w3.eth.get_transaction_count(sender.address) == 15


def test_nonce_book_recovers_after_a_refused_send(chain: Chain, make_account) -> None:
    sender, receiver = make_account(), Account.create()
    chain.send_value(receiver.address, 1, sender=sender)
    # Another process spends nonce 1 behind our back: our cached next nonce is stale.
    other = sender.sign_transaction({
        "to": receiver.address, "value": 1, "gas": 21_000, "nonce": 1,
        "chainId": chain.chain_id, **chain._fees(),
    })
    chain.w3.eth.send_raw_transaction(other.raw_transaction)
    with pytest.raises(ChainError):
        chain.send_value(receiver.address, 1, sender=sender)
    chain.send_value(receiver.address, 1, sender=sender)  # re-reads the nonce and succeeds
    assert chain.w3.eth.get_balance(receiver.address) == 3


def test_unreachable_node_is_a_clear_error() -> None:
    with pytest.raises(ChainError, match="unreachable") as info:
        RpcChain("http://127.0.0.1:9", request_timeout=2)
    assert "127.0.0.1:9" in str(info.value)


def test_rpc_url_must_be_http() -> None:
    with pytest.raises(ChainError, match="must start with http"):
        RpcChain("127.0.0.1:8545")


@pytest.mark.anvil
def test_wrong_chain_id_is_refused(anvil) -> None:
    with pytest.raises(ChainError, match="not the configured chain 1"):
        RpcChain(anvil.url, expected_chain_id=1)


@pytest.mark.anvil
def test_receipt_wait_times_out_with_a_clear_error(tmp_path) -> None:
    from tests.support import AnvilProcess, anvil_binary

    node = AnvilProcess(anvil_binary(), "--no-mining")
    node.start()
    try:
        chain = RpcChain(node.url, receipt_timeout=1.5)
        sender = Account.create()
        chain.w3.provider.make_request("anvil_setBalance", [sender.address, hex(10**21)])
        with pytest.raises(ChainTimeoutError, match="no receipt"):
            chain.send_value(Account.create().address, 1, sender=sender)
    finally:
        node.stop()


@pytest.mark.anvil
def test_zero_gas_legacy_transactions_from_an_unfunded_key() -> None:
    """Besu's zero-gas networks: gas price 0, keys hold no ether at all."""
    from tests.support import AnvilProcess, anvil_binary

    node = AnvilProcess(anvil_binary(), "--base-fee", "0", "--gas-price", "0")
    node.start()
    try:
        chain = RpcChain(node.url, gas_price=0)
        sender, receiver = Account.create(), Account.create()
        receipt = chain.send_value(receiver.address, 0, sender=sender)
        assert receipt["status"] == 1
        tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
        assert tx["type"] == 0 and tx["gasPrice"] == 0
        assert chain.w3.eth.get_balance(sender.address) == 0
    finally:
        node.stop()


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.anvil
def test_the_environment_proxy_applies_to_the_node_and_no_proxy_exempts_it(anvil, no_proxy_settings) -> None:
    no_proxy_settings.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ChainError, match="127.0.0.1"):
        RpcChain(anvil.url, request_timeout=2)
    no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")
    assert RpcChain(anvil.url, request_timeout=2).chain_id == 31337


@pytest.mark.anvil
def test_the_environment_is_read_when_the_chain_is_opened_not_at_every_call(anvil, no_proxy_settings) -> None:
    chain = RpcChain(anvil.url, request_timeout=2)
    no_proxy_settings.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert chain.w3.eth.block_number >= 0, "a proxy set after opening is not used"
