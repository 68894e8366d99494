#!/usr/bin/env python3
"""Generate the keys, genesis and allowlists of a Besu QBFT network for traceledger.

    python deploy/generate.py [--out deploy/network] [--chain-id 1337] [--validators 4]
                              [--account 0xADDRESS ...] [--force]

Writes into ``--out`` (created with mode 0700):

- ``validatorN/key``: node key of validator N (hex, as Besu reads it); its
  address is the validator address, its public key the enode id;
- ``genesis.json``: QBFT (validators in ``extraData``), zero base fee,
  London..Cancun from block 0 (the contracts target the Cancun EVM), the
  service key funded although gas is free;
- ``permissions_config.toml``: Besu's *local* allowlists, ``nodes-allowlist``
  (every validator's enode) and ``accounts-allowlist`` (the service key and
  each ``--account``): the permissioning the compose file enables with
  ``--permissions-{nodes,accounts}-config-file-enabled``, not the deprecated
  on-chain kind;
- ``besu.env``: ``BESU_BOOTNODES`` (every validator);
- ``service/admin.json`` and ``service/key_password``: the traceledger
  service key (keystore v3) and its password, handed to both replicas as
  Docker secrets;
- ``postgres.env`` and ``traceledger.env``: database credentials and the
  settings every replica shares (one ``TRACELEDGER_DATABASE_URL``);
- ``network.json``: the summary (chain id, validators, enodes, accounts).

The extra data is ``RLP([32-byte vanity, [validator addresses], vote, round,
seals])`` with no vote (an empty list), round 0 and no seals, the layout
Besu's ``besu rlp encode --type=QBFT_EXTRA_DATA`` writes. Only the standard
library, ``eth-account`` and ``rlp`` (both traceledger dependencies) are used,
so the script also runs on an operator's machine without the project.

Files that containers read are mode 0644 inside the 0700 output directory:
Docker bind-mounts single files, so the container's user (not the host's)
must be able to read them, while other users of the host cannot reach them.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth_account import Account
from eth_keys import keys
from eth_utils import to_checksum_address

MIN_VALIDATORS = 4  # QBFT tolerates f faulty validators out of 3f + 1: four is the least that survives one
P2P_PORT = 30303
BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"  # required by IBFT 2.0 / QBFT
GAS_LIMIT = 30_000_000
SERVICE_BALANCE_WEI = 10**24  # unused while gas is free; lets the key pay should the network ever charge
DB_USER = DB_NAME = "traceledger"
CONTAINER_DATA_DIR = "/var/lib/traceledger/data"  # inside the volume: init stages beside it, then renames
STANDARD_SCRYPT_N = 2**18


class GenerateError(Exception):
    """Bad arguments or an output directory that would be overwritten."""


@dataclass(frozen=True)
class Validator:
    name: str
    private_key: bytes
    ip: str

    @property
    def public_key_hex(self) -> str:
        return keys.PrivateKey(self.private_key).public_key.to_bytes().hex()

    @property
    def address(self) -> str:
        return keys.PrivateKey(self.private_key).public_key.to_checksum_address()

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key_hex}@{self.ip}:{P2P_PORT}"


def qbft_extra_data(validator_addresses: list[str]) -> str:
    """``extraData`` of a QBFT genesis naming ``validator_addresses`` (in that order)."""
    vanity = b"\x00" * 32
    validators = [bytes.fromhex(address.removeprefix("0x")) for address in validator_addresses]
    no_vote: list[bytes] = []
    round_zero = b""  # RLP of the integer 0
    no_seals: list[bytes] = []
    return "0x" + rlp.encode([vanity, validators, no_vote, round_zero, no_seals]).hex()


def genesis(*, chain_id: int, validators: list[Validator], funded: list[str], block_period: int) -> dict:
    milestones = ["homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg",
                  "istanbul", "muirGlacier", "berlin", "london", "arrowGlacier", "grayGlacier"]
    config: dict = {"chainId": chain_id, **{f"{name}Block": 0 for name in milestones}, "shanghaiTime": 0, "cancunTime": 0}
    config.update({
        "zeroBaseFee": True,  # free gas after London: every block's base fee is 0 (with --min-gas-price=0 on each node)
        "qbft": {"blockperiodseconds": block_period, "epochlength": 30000, "requesttimeoutseconds": 2 * block_period + 2},
    })
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(int(time.time())),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "baseFeePerGas": "0x0",
        "extraData": qbft_extra_data([v.address for v in validators]),
        "alloc": {address.lower().removeprefix("0x"): {"balance": hex(SERVICE_BALANCE_WEI)} for address in funded},
    }


def permissions_toml(validators: list[Validator], accounts: list[str]) -> str:
    def toml_list(values: list[str]) -> str:
        return "[\n" + "".join(f'  "{value}",\n' for value in values) + "]"

    return (
        "# Besu local permissioning: peers and transaction senders this node accepts.\n"
        "# After editing, call perm_reloadPermissionsFromFile on every node (or restart it).\n"
        f"nodes-allowlist={toml_list([v.enode for v in validators])}\n"
        f"accounts-allowlist={toml_list([a.lower() for a in accounts])}\n"
    )


def env_file(values: dict[str, str | int]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def checked_address(text: str) -> str:
    if not (text.startswith("0x") and len(text) == 42):
        raise GenerateError(f"--account {text!r}: expected a 0x-prefixed 20-byte hex address")
    try:
        return to_checksum_address(text)
    except ValueError:
        raise GenerateError(f"--account {text!r}: not a hex address") from None


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def generate(*, out: Path, chain_id: int, count: int, subnet: str, block_period: int, accounts: list[str],
             force: bool, scrypt_n: int) -> dict:
    """Write the network's files into ``out``; return the summary (also in ``network.json``).

    Preconditions: ``count >= 4``; ``out`` is absent or empty unless ``force``
    (regenerating keys of a running network would fork it from its nodes).
    """
    if count < MIN_VALIDATORS:
        raise GenerateError(f"--validators {count}: QBFT needs at least {MIN_VALIDATORS} to survive one faulty validator")
    if not 0 < chain_id < 2**63:
        raise GenerateError(f"--chain-id {chain_id}: must be a positive 64-bit integer")
    if out.exists() and any(out.iterdir()) and not force:
        raise GenerateError(f"{out} is not empty: it may hold a running network's keys; pass --force to replace them")
    extra_accounts = [checked_address(a) for a in accounts]
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)

    validators = [Validator(f"validator{i}", secrets.token_bytes(32), f"{subnet}.{10 + i}") for i in range(1, count + 1)]
    for v in validators:
        write(out / v.name / "key", "0x" + v.private_key.hex())
        write(out / v.name / "address", v.address + "\n")

    service = Account.create()
    password = secrets.token_urlsafe(24)
    keystore = Account.encrypt(service.key, password, kdf="scrypt", iterations=scrypt_n)
    write(out / "service" / "admin.json", json.dumps(keystore) + "\n")
    write(out / "service" / "key_password", password + "\n")

    allowlisted = [service.address, *[a for a in extra_accounts if a != service.address]]
    write(out / "genesis.json", json.dumps(genesis(chain_id=chain_id, validators=validators, funded=[service.address],
                                                   block_period=block_period), indent=2) + "\n")
    write(out / "permissions_config.toml", permissions_toml(validators, allowlisted))
    write(out / "besu.env", env_file({"BESU_BOOTNODES": ",".join(v.enode for v in validators)}))

    db_password = secrets.token_urlsafe(24)
    write(out / "postgres.env",
          env_file({"POSTGRES_USER": DB_USER, "POSTGRES_PASSWORD": db_password, "POSTGRES_DB": DB_NAME}))
    write(out / "traceledger.env", env_file({
        "TRACELEDGER_DATA_DIR": CONTAINER_DATA_DIR,
        "TRACELEDGER_DATABASE_URL": f"postgresql+psycopg://{DB_USER}:{db_password}@postgres:5432/{DB_NAME}",
        "TRACELEDGER_CHAIN_ID": chain_id,
        "TRACELEDGER_GAS_PRICE": 0,
        "TRACELEDGER_KEY_FILE": "/run/secrets/service_key",
        "TRACELEDGER_KEY_PASSWORD_FILE": "/run/secrets/service_key_password",
        "TRACELEDGER_LOG_FORMAT": "json",
    }))
    summary = {
        "chainId": chain_id,
        "validators": [{"name": v.name, "address": v.address, "enode": v.enode, "ip": v.ip} for v in validators],
        "serviceAddress": service.address,
        "accountsAllowlist": allowlisted,
    }
    write(out / "network.json", json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "network", help="output directory")
    parser.add_argument("--chain-id", type=int, default=1337, help="chain id of the new network (default 1337)")
    parser.add_argument("--validators", type=int, default=MIN_VALIDATORS, help="number of QBFT validators (>= 4)")
    parser.add_argument("--subnet", default="172.28.0",
                        help="first three octets of the validators' IPs (as in docker-compose.yml)")
    parser.add_argument("--block-period", type=int, default=2, help="seconds between blocks")
    parser.add_argument("--account", action="append", default=[],
                        help="another sender for the accounts allowlist (repeatable)")
    parser.add_argument("--force", action="store_true", help="replace the keys of an existing output directory")
    parser.add_argument("--scrypt-n", type=int, default=STANDARD_SCRYPT_N, help=argparse.SUPPRESS)  # tests only
    args = parser.parse_args(argv)
    try:
        summary = generate(out=args.out, chain_id=args.chain_id, count=args.validators, subnet=args.subnet,
                           block_period=args.block_period, accounts=args.account, force=args.force, scrypt_n=args.scrypt_n)
    except (GenerateError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: chain {summary['chainId']}, {len(summary['validators'])} validators, "
          f"service key {summary['serviceAddress']}")
    for validator in summary["validators"]:
        print(f"  {validator['name']} {validator['address']} {validator['ip']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
