"""Who a profile is about: a participant (by its id or GLN) or a trader (by its USCC).

A participant is an organisation of the registry: its id is
``keccak256(GLN)`` as 0x + 64 hex digits, and its facts come from the events
it signed, the captures it had refused, the goods it registered and the chain.
A trader is a company of the customs whitelist, named by its unified social
credit code: it signs nothing itself, so its facts are the whitelist's history
and what customs events and refusals say about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.credit.errors import CreditInputError, SubjectNotFoundError
from ledger.gs1 import GS1KeyError, validate_gln
from ledger.participants.models import Participant
from ledger.participants.roles import role_names
from ledger.whitelist.models import WhitelistEventRow, WhitelistTrader
from ledger.whitelist.uscc import validate_uscc

PARTICIPANT = "participant"
TRADER = "trader"

_participants = Participant.__table__
_whitelist_events = WhitelistEventRow.__table__
_traders = WhitelistTrader.__table__


@dataclass(frozen=True)
class Subject:
    """A resolved profile subject. ``id``: the participant id (0x...) or the USCC."""

    kind: str
    id: str
    name: str | None
    gln: str | None = None
    roles: tuple[str, ...] = ()
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "id": self.id, "name": self.name}
        if self.kind == PARTICIPANT:
            body.update(gln=self.gln, roles=list(self.roles), status=self.status)
        else:
            body["uscc"] = self.id
        return body


def classify_id(text: str) -> tuple[str, str]:
    """(kind of id, canonical id) of a profile id, without looking anything up.

    Kinds: ``participant_id`` (0x + 64 hex digits, returned lower case),
    ``gln`` (13 digits, check digit verified), ``uscc`` (18 characters, check
    character verified). Raises CreditInputError (field ``id``) otherwise.
    """
    value = str(text).strip()
    if value[:2].lower() == "0x":
        body = value[2:]
        if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
            raise CreditInputError("id", f"{value!r} is not a participant id (0x and 64 hex digits)")
        return "participant_id", "0x" + body.lower()
    if len(value) == 13 and value.isdigit():
        try:
            return "gln", validate_gln(value, field="id")
        except GS1KeyError as error:
            raise CreditInputError("id", error.message.removeprefix("id: ")) from None
    if len(value) == 18:
        return "uscc", validate_uscc(value, field="id")
    raise CreditInputError(
        "id", f"{value!r} is neither a participant id (0x + 64 hex digits), a GLN (13 digits) nor a USCC (18 characters)")


def _participant(row: Any) -> Subject:
    return Subject(PARTICIPANT, row.id, row.name, gln=row.gln, roles=role_names(row.roles), status=row.status)


def resolve_subject(conn: Connection, text: str) -> Subject:
    """The subject named by ``text`` (see :func:`classify_id`); SubjectNotFoundError if nobody is known under it.

    A trader is known once the whitelist mirror holds an event for it or an
    import gave it a name.
    """
    kind, value = classify_id(text)
    columns = (_participants.c.id, _participants.c.gln, _participants.c.name, _participants.c.roles,
               _participants.c.status)
    if kind == "participant_id":
        row = conn.execute(sa.select(*columns).where(_participants.c.id == value)).first()
        if row is None:
            raise SubjectNotFoundError(f"id: no participant {value} in the registry mirror")
        return _participant(row)
    if kind == "gln":
        row = conn.execute(sa.select(*columns).where(_participants.c.gln == value)).first()
        if row is None:
            raise SubjectNotFoundError(f"id: no participant is registered under GLN {value}")
        return _participant(row)
    name = conn.execute(sa.select(_traders.c.name).where(_traders.c.uscc == value)).scalar()
    listed = conn.execute(sa.select(_whitelist_events.c.id).where(_whitelist_events.c.uscc == value).limit(1)).first()
    if name is None and listed is None:
        raise SubjectNotFoundError(f"id: trader {value} was never on the customs whitelist this index mirrors")
    return Subject(TRADER, value, name)


def all_participants(conn: Connection) -> list[Subject]:
    """Every participant of the registry mirror, by GLN."""
    rows = conn.execute(sa.select(_participants.c.id, _participants.c.gln, _participants.c.name, _participants.c.roles,
                                  _participants.c.status).order_by(_participants.c.gln)).all()
    return [_participant(row) for row in rows]
