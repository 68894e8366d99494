"""The FastAPI application: ``create_app`` opens the data dir, mounts the
routers and runs the background anchorer (when this replica holds the lease)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import health, proofs
from api.errors import install_error_handlers
from ledger.anchor.lease import AnchorLease
from ledger.anchor.service import Anchorer, AnchorPolicy
from ledger.config import Settings
from ledger.runtime import Ledger, open_ledger


def _start_anchorer(ledger: Ledger) -> tuple[threading.Thread, threading.Event]:
    settings = ledger.settings
    anchorer = Anchorer(
        engine=ledger.engine,
        chain=ledger.chain,
        anchor=ledger.contract("CheckpointAnchor"),
        sender=ledger.service_account,
        policy=AnchorPolicy(max_leaves=settings.anchor_max_leaves, max_delay=settings.anchor_max_delay),
    )
    stop = threading.Event()
    thread = threading.Thread(target=anchorer.run, args=(stop, AnchorLease(ledger.engine)), name="anchorer", daemon=True)
    thread.start()
    return thread, stop


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = open_ledger(settings)
        app.state.ledger = ledger
        anchoring = _start_anchorer(ledger) if settings.anchor_enabled else None
        try:
            yield
        finally:
            if anchoring is not None:
                thread, stop = anchoring
                stop.set()
                thread.join(timeout=30)
            ledger.close()

    app = FastAPI(
        title="traceledger",
        version="0.1.0",
        description="Signed supply-chain events in a Merkle log anchored on a permissioned EVM chain.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(proofs.router)
    return app
