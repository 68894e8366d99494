"""Profiles for callers (API, CLI, bench): open a snapshot of the index, resolve, gather, grade.

Every function is keyword-only and takes the engine and the data dir's
contract addresses (``ledger.manifest.contracts``); the rules come from
:func:`ledger.credit.rules.load_rules` unless given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from ledger.credit.profile import build_profile, build_profiles
from ledger.credit.rules import RuleSet
from ledger.credit.subjects import all_participants, resolve_subject


def credit_profile(*, engine: Engine, contracts: Mapping[str, str], subject_id: str, rules: RuleSet,
                   now: float | None = None) -> dict[str, Any]:
    """The profile of the participant (0x id or GLN) or trader (USCC) named by ``subject_id``.

    Raises CreditInputError (400, field ``id``) for a malformed id,
    SubjectNotFoundError (404) when nobody is known under it.
    """
    with engine.connect() as conn, conn.begin():
        subject = resolve_subject(conn, subject_id)
        return build_profile(conn, subject, rules=rules, contracts=contracts, now=now)


def credit_profiles(*, engine: Engine, contracts: Mapping[str, str], subject_ids: Sequence[str] | None, rules: RuleSet,
                    now: float | None = None) -> list[dict[str, Any]]:
    """The profiles of ``subject_ids`` (every registered participant when None), in one snapshot."""
    with engine.connect() as conn, conn.begin():
        if subject_ids is None:
            subjects = all_participants(conn)
        else:
            subjects = [resolve_subject(conn, text) for text in subject_ids]
        return build_profiles(conn, subjects, rules=rules, contracts=contracts, now=now)
