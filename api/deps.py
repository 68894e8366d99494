"""Dependencies routes declare by type: ``LedgerDep``, ``SessionDep``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from ledger.runtime import Ledger


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_session(ledger: LedgerDep) -> Iterator[Session]:
    with Session(ledger.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
