"""Compare the index's registry mirror with the registry's own views."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.chain.deploy import role_id
from ledger.participants.indexer import key_status, list_participants
from ledger.participants.models import ChainCursor, Participant, ParticipantKey, RegistryEvent
from ledger.participants.roles import ROLES

_STATUS = {1: "active", 2: "suspended"}


def assert_mirror_matches_chain(engine: Engine, chain, registry, expected_glns: set[str]) -> None:
    with Session(engine) as session:
        participants = list_participants(session)
        assert {p.gln for p in participants} == expected_glns
        for p in participants:
            pid, gln, name, status, roles, active_keys, registered_at = chain.call(registry.functions.getParticipant(bytes.fromhex(p.id[2:])))
            assert "0x" + bytes(pid).hex() == p.id
            assert f"{gln:013d}" == p.gln
            assert name == p.name
            assert _STATUS[status] == p.status
            assert roles == p.role_mask
            assert active_keys == len(p.active_keys)
            assert registered_at == p.registered_block
            assert bytes(chain.call(registry.functions.participantOfGln(int(p.gln)))) == bytes(pid)
            for key in p.keys:
                owner, added, revoked = chain.call(registry.functions.getKey(key.address))
                assert bytes(owner) == bytes(pid)
                assert added == key.added_block
                assert (revoked or None) == key.revoked_block
                status_ = key_status(session, key.address)
                for role in ROLES:
                    assert status_.may_act_as(role) == chain.call(registry.functions.hasActiveRole(key.address, role_id(role))), (key.address, role)


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the mirror's tables, for before/after comparisons."""
    tables = {"participant": Participant, "participant_key": ParticipantKey, "registry_event": RegistryEvent, "chain_cursor": ChainCursor}
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name, model in tables.items():
            table = model.__table__
            out[name] = sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(table)))
    return out
