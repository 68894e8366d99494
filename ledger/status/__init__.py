"""Recalls and pack status on chain (the ``ProductStatus`` contract), and their index mirror.

- :mod:`ledger.status.subjects`: keys, subject ids and pack statuses;
- :mod:`ledger.status.service`: the writes (register a lot, recall, withdraw,
  decommission) and the one-call read of many subjects from chain state;
- :mod:`ledger.status.mirror`: the index's mirror of the contract's events
  and the current status per key, kept current by ``serve``;
- :mod:`ledger.status.queries`: what a trace shows (recalls in force on any
  key of the trace, the pack's decommissioning).
"""
