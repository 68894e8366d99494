"""Traceability: current state and provenance of every item, lot and container.

- ``models``: the tables (current state per identifier, the provenance graph);
- ``indexing``: keeps them current inside each capture's transaction
  (``index_provenance``) and rebuilds them from the log (``rebuild_provenance``);
- ``queries``: upstream traces (where did this come from), downstream impact
  reports (where did this lot go, who holds it now), container contents at
  an event, product listings;
- ``evidence``: inclusion proofs of a trace's events against the latest
  anchored checkpoint;
- ``sql``: the plain SQL of the hot paths.
"""
