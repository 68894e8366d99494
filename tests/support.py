"""Helpers shared by tests: services (anvil, PostgreSQL), accounts, the CLI.

Fixtures live in conftest.py; this module holds what tests import by name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account

from ledger.chain.base import Chain
from ledger.chain.rpc import RpcChain

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get("TRACELEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("TRACELEDGER_REQUIRE_SERVICES") == "1"

# Fast scrypt for keys made by tests only; real keystores use the standard work factor.
TEST_SCRYPT_N = 2**10


def unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def anvil_binary() -> Path | None:
    local = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if local.exists():
        return local
    found = shutil.which("anvil")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AnvilProcess:
    """A real anvil node on a free port, stopped (and restartable) by tests."""

    def __init__(self, binary: Path, *extra_args: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--silent", *self.extra_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"anvil did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


FAUCET = Account.from_key(b"\x01" * 32)


def fund(chain: Chain, address: str) -> None:
    """Give ``address`` ether: for gas on anvil, for value transfers everywhere."""
    if isinstance(chain, RpcChain):
        chain.w3.provider.make_request("anvil_setBalance", [address, hex(10**22)])
    else:
        chain.send_value(address, 10**22, sender=FAUCET)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELEDGER_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
