"""What an audit found: its counts, and each discrepancy naming the row concerned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int], None]
"""Called with the number of records (or rows) done so far."""


@dataclass(frozen=True)
class Discrepancy:
    subject: str  # "record 17", "leaf 17", "node (3, 2)", "checkpoint 1024"
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


@dataclass
class AuditReport:
    records: int = 0
    checkpoints_on_chain: int = 0
    anchored_size: int = 0
    seconds: float = 0.0
    """Time the log audit took (records, leaves, nodes, checkpoints)."""
    projections_audited: bool = False
    projection_rows: int = 0
    """Rows of the projected tables compared with their rebuild from the log."""
    projection_seconds: float = 0.0
    mirrors_audited: bool = False
    mirror_rows: int = 0
    """Rows of the contract mirrors compared with their rebuild from the chain's events."""
    mirror_seconds: float = 0.0
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0
