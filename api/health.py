"""Liveness (``/healthz``) and readiness (``/readyz``).

``/healthz`` answers as long as the process serves requests, and does
nothing else: it is the ceiling the benchmarks compare routes against.

``/readyz`` answers 200 when this replica can do its job: the chain node
answers (its block number, read with a short timeout and cached for a
second, so a load balancer polling every replica does not poll the node as
often), the SQL index answers ``SELECT 1``, and anchoring keeps up (records
not yet anchored, and the age of the oldest of them, within
``TRACELEDGER_READY_MAX_LAG_LEAVES`` / ``..._SECONDS``). Otherwise 503, with
every failing check named in ``detail`` and each check's figures in
``checks``. The anchoring lag is the same on every replica (it is read from
the shared index), so an anchoring outage makes them all unready together:
alert on it, and think twice before letting an orchestrator restart
replicas because of it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from ledger.chain.rpc import RpcChain
from ledger.metrics import read_anchoring_state
from ledger.runtime import Ledger

router = APIRouter(tags=["operations"])

CHAIN_PROBE_TTL = 1.0  # seconds a chain probe's answer is reused


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@dataclass
class Check:
    ok: bool
    detail: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **({"detail": self.detail} if self.detail else {}), **self.figures}


class ReadinessProbe:
    """The three checks of the module docstring, for one opened ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.settings = ledger.settings
        self._chain_lock = threading.Lock()
        self._chain_checked_at = float("-inf")
        self._chain_result = Check(False, "not probed yet")

    def chain(self) -> Check:
        """The node's block number, probed at most once per ``CHAIN_PROBE_TTL``."""
        with self._chain_lock:  # concurrent probes wait for one answer instead of each asking the node
            if time.monotonic() - self._chain_checked_at >= CHAIN_PROBE_TTL:
                self._chain_result = self._probe_chain()
                self._chain_checked_at = time.monotonic()
            return self._chain_result

    def _probe_chain(self) -> Check:
        chain = self.ledger.chain
        try:
            if isinstance(chain, RpcChain):
                # Straight to the node with the probe's own short timeout (the
                # adapter's is sized for transactions, not for a probe).
                answer = httpx.post(chain.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
                                    timeout=self.settings.ready_chain_timeout).json()
                if "result" not in answer:
                    raise ValueError(f"the node answered {answer.get('error')!r}")
                block = int(answer["result"], 16)
            else:
                block = chain.w3.eth.block_number
        except (httpx.HTTPError, ValueError, KeyError, TypeError, OSError) as exc:
            return Check(False, f"chain node {chain.description} unreachable: {exc.__class__.__name__}: {exc}".rstrip(": "))
        return Check(True, figures={"blockNumber": block})

    def database(self) -> Check:
        try:
            with self.ledger.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError as exc:
            return Check(False, f"index unreachable: {_first_line(exc)}")
        return Check(True)

    def anchoring(self) -> Check:
        try:
            state = read_anchoring_state(self.ledger.engine)
        except SQLAlchemyError as exc:
            return Check(False, f"lag unknown, index unreachable: {_first_line(exc)}")
        max_leaves, max_seconds = self.settings.ready_max_lag_leaves, self.settings.ready_max_lag_seconds
        figures = {"waitingLeaves": state.lag_leaves, "oldestWaitingSeconds": round(state.lag_seconds, 3),
                   "maxLeaves": max_leaves, "maxSeconds": max_seconds}
        problems = []
        if state.lag_leaves > max_leaves:
            problems.append(f"{state.lag_leaves} records wait to be anchored (bound {max_leaves})")
        if state.lag_seconds > max_seconds:
            problems.append(f"the oldest record waiting was appended {state.lag_seconds:.0f}s ago (bound {max_seconds:g}s)")
        return Check(not problems, "; ".join(problems) or None, figures)


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _probe(request: Request) -> ReadinessProbe:
    probe = getattr(request.app.state, "readiness", None)
    if probe is None:
        probe = request.app.state.readiness = ReadinessProbe(request.app.state.ledger)
    return probe


@router.get("/readyz", summary="This replica can serve: chain, index and anchoring are fine",
            responses={503: {"description": "not ready; `detail` names each failing check"}})
def readyz(request: Request) -> JSONResponse:
    probe = _probe(request)
    checks = {"chain": probe.chain(), "database": probe.database(), "anchoring": probe.anchoring()}
    body: dict[str, Any] = {"status": "ready", "checks": {name: check.as_json() for name, check in checks.items()}}
    failing = [name for name, check in checks.items() if not check.ok]
    if not failing:
        return JSONResponse(body)
    # A report, not a failed request: the same error shape, with the checks alongside.
    detail = "; ".join(f"{name}: {checks[name].detail}" for name in failing)
    return JSONResponse({"error": "NotReady", "detail": detail, **body, "status": "unready", "failing": failing},
                        status_code=503)
