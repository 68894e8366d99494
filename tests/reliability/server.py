"""`traceledger serve` as a real subprocess that tests kill, stop and start again.

The port is chosen once, so clients keep one base URL across restarts; the
server's output goes to a log file (appended at each start) that a failing
test quotes. ``wait_for`` and ``anchored_to`` wait for what the server says
(e.g. that its checkpoints cover the log) with a bound.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import REPO_ROOT, free_port


class ServerProcess:
    """One data dir served on a fixed local port. Precondition: the data dir is
    initialised, and ``env`` holds whatever the process needs beyond it (the
    key password, an index URL...)."""

    def __init__(self, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELEDGER_")} | env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> float:
        """Start and wait until ``/healthz`` answers; return the seconds that took."""
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ledger.cli.main", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
                env=self.env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        with httpx.Client(base_url=self.url, timeout=1.0) as probe:
            while time.monotonic() - started < timeout:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if probe.get("/healthz").status_code == 200:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"serve did not answer /healthz within {timeout:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """SIGTERM: the orderly shutdown (workers stopped, chain closed)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_for(condition: Callable[[], bool], bound: float, what: str, server: ServerProcess | None = None) -> float:
    """Seconds until ``condition()`` holds; fails past ``bound`` seconds, quoting the server's log."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > bound:
            pytest.fail(f"{what}: not within {bound:.0f}s" + (f"; server log:\n{server.log_tail()}" if server else ""))
        time.sleep(0.02)
    return time.monotonic() - started


def latest_checkpoint(http: httpx.Client) -> dict | None:
    """The server's newest anchored checkpoint, None before the first."""
    response = http.get("/v1/checkpoints/latest")
    return response.json() if response.status_code == 200 else None


def anchored_to(http: httpx.Client, size: int) -> bool:
    """True once the server's newest anchored checkpoint covers ``size`` records."""
    latest = latest_checkpoint(http)
    return latest is not None and latest["treeSize"] >= size
