"""Tables of the traceability index: current state, and the provenance graph.

Both are projections of the ``epcis.event`` records of the log, maintained
in the capture's transaction and rebuildable from the log alone
(:func:`ledger.trace.indexing.rebuild_provenance`).

- ``trace_state``: one row per identifier (serialized item, lot, product
  class, SSCC container, asset...), keyed by its canonical Digital Link path:
  where it is, in what disposition, after which business step, recorded by
  whom, and the log index of the event that said so. An event on a container
  updates the state of everything inside it at the time (``via`` names the
  container).
- ``trace_edge``: the provenance graph. ``aggregation`` edges go from a
  parent (pallet, case) to a child, from the event that packed it
  (``start_*``) to the event that unpacked it (``end_*``, open while still
  inside); ``transformation`` edges go from each input to each output of a
  transformation; ``lot`` edges go from a lot to each serialized item known to
  belong to it (Digital Link with ``/10/``, or ILMD ``lotNumber``).
- ``trace_transformation_part``: the inputs and outputs seen so far under one
  EPCIS ``transformationID``, so a transformation recorded over several
  events links every input to every output.

Times are UTC; ``(time, log index)`` orders events (the log index breaks
ties and orders events captured with the same time stamp).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String
from sqlmodel import Field, SQLModel

_Index = BigInteger().with_variant(Integer(), "sqlite")

EDGE_AGGREGATION = "aggregation"
EDGE_TRANSFORMATION = "transformation"
EDGE_LOT = "lot"
EDGE_KINDS = (EDGE_AGGREGATION, EDGE_TRANSFORMATION, EDGE_LOT)


class TraceState(SQLModel, table=True):
    """The current state of one identifier: the facts its latest event (by event time) left."""

    __tablename__ = "trace_state"
    __table_args__ = (Index("ix_trace_state_gtin", "gtin", "kind", "epc"),)

    epc: str = Field(sa_column=Column("epc", String(300), primary_key=True))
    kind: str = Field(sa_column=Column("kind", String(16), nullable=False))  # item, lot, product, container, asset, other
    gtin: str | None = Field(default=None, sa_column=Column("gtin", String(14)))
    disposition: str | None = Field(default=None, sa_column=Column("disposition", String(200)))
    location: str | None = Field(default=None, sa_column=Column("location", String(512)))  # bizLocation, else readPoint
    biz_step: str | None = Field(default=None, sa_column=Column("biz_step", String(200)))
    participant_id: str | None = Field(default=None, sa_column=Column("participant_id", String(66)))
    via: str | None = Field(default=None, sa_column=Column("via", String(300)))  # container the last event was about
    last_index: int = Field(sa_column=Column("last_index", _Index, nullable=False))
    last_time: datetime = Field(sa_column=Column("last_time", DateTime(timezone=True), nullable=False))
    first_index: int = Field(sa_column=Column("first_index", _Index, nullable=False))


class TraceEdge(SQLModel, table=True):
    """One edge of the provenance graph, from ``source`` to ``target``, opened by event ``start_index``."""

    __tablename__ = "trace_edge"
    __table_args__ = (Index("ix_trace_edge_target", "target", "kind", "start_index"),)

    source: str = Field(sa_column=Column("source", String(300), primary_key=True))
    kind: str = Field(sa_column=Column("kind", String(16), primary_key=True))
    target: str = Field(sa_column=Column("target", String(300), primary_key=True))
    start_index: int = Field(sa_column=Column("start_index", _Index, primary_key=True, autoincrement=False))
    start_time: datetime = Field(sa_column=Column("start_time", DateTime(timezone=True), nullable=False))
    end_index: int | None = Field(default=None, sa_column=Column("end_index", _Index))
    end_time: datetime | None = Field(default=None, sa_column=Column("end_time", DateTime(timezone=True)))


class TraceTransformationPart(SQLModel, table=True):
    """An input or output seen under one transformationID (stored as its SHA-256, hex)."""

    __tablename__ = "trace_transformation_part"

    transformation: str = Field(sa_column=Column("transformation", String(64), primary_key=True))
    role: str = Field(sa_column=Column("role", String(8), primary_key=True))  # input, output
    epc: str = Field(sa_column=Column("epc", String(300), primary_key=True))
    record_index: int = Field(sa_column=Column("record_index", _Index, nullable=False))
    event_time: datetime = Field(sa_column=Column("event_time", DateTime(timezone=True), nullable=False))
