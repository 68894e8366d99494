"""`traceledger serve` in a subprocess on a free local port, for the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def serve(data_dir: Path, env_extra: dict[str, str] | None = None, *, timeout: float = 120) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server for ``data_dir``; return it and its URL once /healthz answers."""
    from tests.support import free_port

    port = free_port()
    env = {**os.environ, "TRACELEDGER_KEY_PASSWORD": "bench", **(env_extra or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")
