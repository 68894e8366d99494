"""deploy/docker-compose.yml and nginx.conf: what can be checked without Docker.

The compose file parses, every file it mounts exists (in deploy/, or in the
./network directory generate.py writes), the validators run the documented
free-gas, local-allowlist configuration on the addresses their enodes name,
both replicas share one database, and the proxy balances over both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, read_env

VALIDATORS = ["validator1", "validator2", "validator3", "validator4"]
REPLICAS = ["api1", "api2"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def host_path(reference: str, network) -> Path:
    """A compose-relative host path: ./network/... is what generate.py wrote, the rest is committed."""
    relative = reference.removeprefix("./")
    if relative.startswith("network/"):
        return network.path(relative.removeprefix("network/"))
    return (DEPLOY / relative).resolve()


def mounts(service: dict) -> list[tuple[str, str]]:
    pairs = [tuple(volume.split(":")[:2]) for volume in service.get("volumes", [])]
    return [(source, target) for source, target in pairs if source.startswith(".")]


def env_files(service: dict) -> list[str]:
    files = service.get("env_file", [])
    return [files] if isinstance(files, str) else list(files)


def effective_env(service: dict, network) -> dict[str, str]:
    env: dict[str, str] = {}
    for reference in env_files(service):
        env.update(read_env(host_path(reference, network)))
    env.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
    return env


def test_every_referenced_file_exists(compose, network) -> None:
    referenced = [source for service in compose["services"].values() for source, _ in mounts(service)]
    referenced += [ref for service in compose["services"].values() for ref in env_files(service)]
    referenced += [secret["file"] for secret in compose["secrets"].values()]
    assert len(referenced) > 20
    missing = [ref for ref in referenced if not host_path(ref, network).is_file()]
    assert missing == []
    for name in REPLICAS:
        build = compose["services"][name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert (DEPLOY / "Dockerfile.dockerignore").is_file()


def test_validators_run_qbft_free_gas_with_local_allowlists(compose, network) -> None:
    services = compose["services"]
    enode_ips = [v["ip"] for v in network.summary["validators"]]
    for name, ip in zip(VALIDATORS, enode_ips, strict=True):
        service = services[name]
        image, _, version = service["image"].partition(":")
        assert image == "hyperledger/besu" and re.fullmatch(r"\d+\.\d+\.\d+", version), "pin the Besu version"
        flags = service["command"]
        assert "--min-gas-price=0" in flags
        assert "--permissions-nodes-config-file-enabled" in flags and "--permissions-accounts-config-file-enabled" in flags
        assert not [f for f in flags if "contract" in f], "on-chain permissioning is deprecated: local allowlists only"
        assert dict(mounts(service))[f"./network/{name}/key"] == "/etc/besu/key"
        assert "--node-private-key-file=/etc/besu/key" in flags
        genesis_target = dict(mounts(service))["./network/genesis.json"]
        assert f"--genesis-file={genesis_target}" in flags
        # The enode that the other nodes' allowlists hold must be the address the node has and advertises.
        assert service["networks"]["chain"]["ipv4_address"] == ip == service["environment"]["BESU_P2P_HOST"]
    subnet = compose["networks"]["chain"]["ipam"]["config"][0]["subnet"]
    assert all(ip.startswith(subnet.rsplit(".", 1)[0] + ".") for ip in enode_ips)


def test_both_replicas_share_one_database_and_the_proxy_balances_over_both(compose, network) -> None:
    services = compose["services"]
    envs = {name: effective_env(services[name], network) for name in REPLICAS}
    urls = {env["TRACELEDGER_DATABASE_URL"] for env in envs.values()}
    assert len(urls) == 1 and "@postgres:5432/" in urls.pop()
    assert {envs[name]["TRACELEDGER_RPC_URL"] for name in REPLICAS} == {"http://validator1:8545", "http://validator2:8545"}
    for name in REPLICAS:
        assert services[name]["command"][:1] == ["serve"] and "0.0.0.0" in services[name]["command"]
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert set(services[name]["secrets"]) == {"service_key", "service_key_password"}
        env = envs[name]
        assert env["TRACELEDGER_KEY_FILE"] == "/run/secrets/service_key"
        assert env["TRACELEDGER_KEY_PASSWORD_FILE"] == "/run/secrets/service_key_password"
        assert env["TRACELEDGER_DATA_DIR"].startswith("/var/lib/traceledger/"), "inside the shared volume"
        assert any(v.startswith("traceledger-data:/var/lib/traceledger") for v in services[name]["volumes"])

    nginx = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream\s+(\w+)\s*\{(.*?)\}", nginx, re.S)
    assert upstream, "nginx.conf has no upstream block"
    assert re.findall(r"^\s*server\s+([\w.:-]+)", upstream.group(2), re.M) == ["api1:8000", "api2:8000"]
    assert f"proxy_pass http://{upstream.group(1)};" in nginx
    assert dict(mounts(services["proxy"]))["./nginx.conf"] == "/etc/nginx/nginx.conf"
    assert set(services["proxy"]["depends_on"]) == set(REPLICAS)
