"""deploy/generate.py: the QBFT genesis, the allowlists and the keys agree with each other."""

from __future__ import annotations

import json
import re
import stat

import rlp
from eth_account import Account
from eth_keys import keys

from tests.deploy.conftest import CHAIN_ID, EXTRA_ACCOUNT, generate_module, read_env

# Besu's documented QBFT genesis (block header validator selection), its four
# validators and its extraData: RLP([vanity, validators, no vote, round 0, no seals]).
BESU_DOC_VALIDATORS = [
    "0x64a702e6263b7297a96638cac6ae65e6541f4169",
    "0x3923390ad55e90c237593b3b0e401f3b08a03185",
    "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
    "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
]
BESU_DOC_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638"
    "cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2"
    "f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0"
)


def toml_list(text: str, key: str) -> list[str]:
    block = re.search(rf"^{key}=\[(.*?)\]", text, re.S | re.M)
    assert block, f"{key} missing"
    return re.findall(r'"([^"]+)"', block.group(1))


def test_extra_data_encoding_matches_besus_documented_genesis() -> None:
    assert generate_module().qbft_extra_data(BESU_DOC_VALIDATORS) == BESU_DOC_EXTRA_DATA


def test_genesis_keys_enodes_and_allowlists_agree(network) -> None:
    genesis = json.loads(network.path("genesis.json").read_text())
    config = genesis["config"]
    assert config["chainId"] == CHAIN_ID
    assert set(config["qbft"]) >= {"blockperiodseconds", "epochlength", "requesttimeoutseconds"}
    assert config["zeroBaseFee"] is True and genesis["baseFeePerGas"] == "0x0"
    assert config["londonBlock"] == 0 and config["cancunTime"] == 0, "the contracts are compiled for Cancun"

    node_keys = [bytes.fromhex(network.path(f"{v['name']}/key").read_text().strip().removeprefix("0x"))
                 for v in network.summary["validators"]]
    publics = [keys.PrivateKey(k).public_key for k in node_keys]
    assert len(publics) == 4

    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert vanity == b"\0" * 32 and vote == [] and round_ == b"" and seals == []
    assert ["0x" + v.hex() for v in validators] == [p.to_address() for p in publics]

    permissions = network.path("permissions_config.toml").read_text()
    enodes = toml_list(permissions, "nodes-allowlist")
    assert [e.split("@")[0] for e in enodes] == [f"enode://{p.to_bytes().hex()}" for p in publics]
    assert [e.split("@")[1] for e in enodes] == [f"{v['ip']}:30303" for v in network.summary["validators"]]
    assert read_env(network.path("besu.env"))["BESU_BOOTNODES"].split(",") == enodes

    password = network.path("service/key_password").read_text().strip()
    service = Account.from_key(Account.decrypt(json.loads(network.path("service/admin.json").read_text()), password))
    assert service.address == network.summary["serviceAddress"]
    assert toml_list(permissions, "accounts-allowlist") == [service.address.lower(), EXTRA_ACCOUNT.lower()]
    assert list(genesis["alloc"]) == [service.address.lower()[2:]]

    replica = read_env(network.path("traceledger.env"))
    database = read_env(network.path("postgres.env"))
    assert replica["TRACELEDGER_CHAIN_ID"] == str(CHAIN_ID) and replica["TRACELEDGER_GAS_PRICE"] == "0"
    assert replica["TRACELEDGER_DATABASE_URL"] == (
        f"postgresql+psycopg://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}@postgres:5432/{database['POSTGRES_DB']}"
    )
    assert stat.S_IMODE(network.out.stat().st_mode) == 0o700, "keys and passwords: no other user of the host may enter"


def test_refuses_to_overwrite_keys_and_names_bad_arguments(network, tmp_path, capsys) -> None:
    script = generate_module()

    def run(*args: str) -> tuple[int, str]:
        code = script.main([*args])
        return code, capsys.readouterr().err

    before = network.path("validator1/key").read_text()
    code, err = run("--out", str(network.out))
    assert code == 1 and "--force" in err
    assert network.path("validator1/key").read_text() == before

    code, err = run("--out", str(tmp_path / "few"), "--validators", "3")
    assert code == 1 and err.startswith("error: --validators 3") and len(err.splitlines()) == 1
    code, err = run("--out", str(tmp_path / "bad"), "--account", "0x12")
    assert code == 1 and "--account '0x12'" in err
    assert not (tmp_path / "few").exists() and not (tmp_path / "bad").exists()
