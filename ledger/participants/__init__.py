"""Participants: the on-chain registry of organisations, their keys and roles,
and its mirror in the index.

- :mod:`.models`   the mirror's tables (``participant``, ``participant_key``,
  ``registry_event``, ``chain_cursor``)
- :mod:`.indexer`  follows the registry's events into the mirror (idempotent,
  reorg-aware) and answers the capture path's questions (:func:`key_status`)
- :mod:`.service`  registry writes with the service key, validated first
- :mod:`.cli`      ``traceledger participant ...``
"""
