"""The FastAPI application: ``create_app`` opens the data dir, mounts the
routers and runs the background workers: the registry indexer (every
replica keeps its mirror current) and the anchorer (the replica holding the
lease anchors)."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import capture, events, health, labels, proofs, trace, whitelist
from api import scan
from api import credit
from api.errors import install_error_handlers
from api.metrics import RequestObserver
from api.metrics import router as metrics_router
from ledger.anchor.lease import AnchorLease
from ledger.anchor.service import Anchorer, AnchorPolicy
from ledger.config import Settings
from ledger.crossborder.sync import follow_whitelist, sync_whitelist_mirror
from ledger.participants.service import registry_indexer
from ledger.runtime import Ledger, open_ledger
from ledger.status.mirror import follow_status, status_mirror
from ledger.status.subjects import CONTRACT_NAME as STATUS_CONTRACT


class Workers:
    """Background threads that stop together when the app shuts down."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, name: str, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=(self.stop, *args), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _start_workers(ledger: Ledger) -> Workers:
    settings = ledger.settings
    workers = Workers()
    indexer = registry_indexer(ledger)
    indexer.sync()  # the mirror is current before the first capture is authorised
    workers.start("registry-indexer", indexer.run)
    # Like the registry: current before the first claim is judged or the first scan answered.
    sync_whitelist_mirror(ledger)
    workers.start("whitelist-mirror", follow_whitelist, ledger)
    if STATUS_CONTRACT in ledger.manifest.contracts:
        status_mirror(ledger).sync()
        workers.start("status-mirror", follow_status, ledger)
    if settings.anchor_enabled:
        anchorer = Anchorer(
            engine=ledger.engine,
            chain=ledger.chain,
            anchor=ledger.contract("CheckpointAnchor"),
            sender=ledger.service_account,
            policy=AnchorPolicy(max_leaves=settings.anchor_max_leaves, max_delay=settings.anchor_max_delay),
        )
        workers.start("anchorer", anchorer.run, AnchorLease(ledger.engine))
    return workers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = open_ledger(settings)
        app.state.ledger = ledger
        workers = _start_workers(ledger)
        # Everything loaded so far lives as long as the process: keep the
        # garbage collector from rescanning it, which otherwise shows up as
        # the p99 latency of every route.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            workers.shutdown()
            ledger.close()

    app = FastAPI(
        title="traceledger",
        version="0.1.0",
        description="Signed supply-chain events in a Merkle log anchored on a permissioned EVM chain.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(trace.router)  # early: routes are matched in order, and scans are the hot path
    app.include_router(labels.router)
    app.include_router(proofs.router)
    app.include_router(capture.router)
    app.include_router(events.router)
    app.include_router(whitelist.router)
    app.include_router(scan.router)
    app.include_router(credit.router)
    app.add_middleware(RequestObserver)  # latency by route, request id, access log
    return app
