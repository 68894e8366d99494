"""The FastAPI application: ``create_app`` opens the data dir and mounts the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import health
from api.errors import install_error_handlers
from ledger.config import Settings
from ledger.runtime import open_ledger


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = open_ledger(settings)
        try:
            yield
        finally:
            app.state.ledger.close()

    app = FastAPI(title="traceledger", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health.router)
    return app
