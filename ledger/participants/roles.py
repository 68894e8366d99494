"""The registry's participant roles, in bit order (see IParticipantRegistry.sol)."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.chain.deploy import role_id
from ledger.participants.errors import ParticipantInputError

ROLES: tuple[str, ...] = (
    "ADMIN", "REGULATOR", "CUSTOMS", "PRODUCER", "PROCESSOR", "DISTRIBUTOR",
    "RETAILER", "MANUFACTURER", "DISPENSER", "AUDITOR", "ANCHOR",
)
"""Role names; the ``i``-th stands for bit ``1 << i`` of a participant's role mask."""

ROLE_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(ROLES)}
ROLE_BY_ID: dict[bytes, str] = {role_id(name): name for name in ROLES}


def parse_role(text: str, *, field: str = "role") -> str:
    """The canonical (upper-case) name of a role given in any case."""
    name = text.strip().upper()
    if name not in ROLE_BITS:
        raise ParticipantInputError(field, f"unknown role {text!r}; known roles: {', '.join(ROLES)}")
    return name


def roles_mask(names: Iterable[str]) -> int:
    mask = 0
    for name in names:
        mask |= ROLE_BITS[parse_role(name)]
    return mask


def role_names(mask: int) -> tuple[str, ...]:
    """The roles set in ``mask``, in bit order."""
    return tuple(name for name in ROLES if mask & ROLE_BITS[name])
