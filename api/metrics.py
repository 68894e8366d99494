"""Prometheus metrics at ``GET /metrics``, and the middleware that times every request.

Per process (scrape every replica, not the proxy): request latency by route
template and status class, events captured and refused, checkpoints anchored,
whether this process holds the anchoring lease, and Python's process
metrics. From the shared index, read at scrape time: log size, anchored
size, anchoring lag in leaves and seconds, checkpoint age.

:class:`RequestObserver` is plain ASGI (no ``BaseHTTPMiddleware``, which
costs a task and a memory stream per request): it times the request, labels
it by the route *template* (``/capture/{capture_id}``, never the raw path,
which would make one time series per capture), gives it a request id (the
client's ``X-Request-ID`` when well formed, else a new one, echoed in the
answer) and writes the access log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from time import perf_counter
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ledger.logs import REQUEST_ID, log_request
from ledger.metrics import read_anchoring_state

router = APIRouter(tags=["operations"])

# The `_created` series double the exposition for nothing Prometheus needs
# (it tracks counter resets itself).
disable_created_metrics()

REQUEST_LATENCY = Histogram(
    "traceledger_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

UNMATCHED_ROUTE = "unmatched"  # every path no route serves shares one label
_REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_STATUS_CLASSES = {code: f"{code // 100}xx" for code in range(100, 600)}


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == _REQUEST_ID_HEADER:
            # Only ids that cannot break a log line or a header are kept.
            if _VALID_REQUEST_ID.fullmatch(value):
                return value.decode()
            break
    return os.urandom(12).hex()


class RequestObserver:
    """ASGI middleware: latency histogram, request id, access log. See the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._series: dict[tuple[str, str, str], Any] = {}  # labelled children, looked up once

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request_id = _request_id(scope["headers"])
        status = 500  # what the client gets if the app raises before answering
        echoed = (b"x-request-id", request_id.encode())

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            elapsed = perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            method = scope["method"]
            key = (method, route, _STATUS_CLASSES.get(status, "other"))
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = REQUEST_LATENCY.labels(*key)
            series.observe(elapsed)
            log_request(method=method, route=route, path=scope["path"], status=status,
                        duration_ms=elapsed * 1000, request_id=request_id)


class IndexCollector(Collector):
    """Gauges read from the shared index at scrape time (a few primary-key lookups)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reachable = GaugeMetricFamily("traceledger_index_reachable", "1 if the SQL index answered this scrape, else 0.")
        try:
            state = read_anchoring_state(self.app.state.ledger.engine)
        except SQLAlchemyError:
            reachable.add_metric([], 0)
            yield reachable
            return
        reachable.add_metric([], 1)
        yield reachable
        yield GaugeMetricFamily("traceledger_log_leaves", "Records (leaves) in the Merkle log.", value=state.log_size)
        yield GaugeMetricFamily("traceledger_anchored_leaves", "Tree size of the newest anchored checkpoint.",
                                value=state.anchored_size)
        yield GaugeMetricFamily("traceledger_anchoring_lag_leaves", "Records not yet covered by an anchored checkpoint.",
                                value=state.lag_leaves)
        yield GaugeMetricFamily("traceledger_anchoring_lag_seconds",
                                "Age of the oldest record not yet anchored (0 when all are).", value=state.lag_seconds)
        if state.checkpoint_age_seconds is not None:
            yield GaugeMetricFamily("traceledger_checkpoint_age_seconds",
                                    "Seconds since the newest checkpoint was anchored (its block time).",
                                    value=state.checkpoint_age_seconds)


def _index_registry(app: FastAPI) -> CollectorRegistry:
    """One registry per app for the index gauges (the process-wide one holds per-process metrics)."""
    registry = getattr(app.state, "index_metrics", None)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(IndexCollector(app))
        app.state.index_metrics = registry
    return registry


@router.get("/metrics", summary="Prometheus metrics of this replica", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    body = generate_latest(REGISTRY) + generate_latest(_index_registry(request.app))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
