"""The customs trader whitelist (``contracts/TraderWhitelist.sol``) from Python.

- :mod:`.uscc`      the USCC (GB 32100-2015): validation naming the bad character
- :mod:`.model`     levels, scopes, statuses, verdicts, entries
- :mod:`.service`   the contract: reads pinned to a block, direct writes, EIP-712 relayed writes
- :mod:`.history`   events decoded and replayed into the entry after each change
- :mod:`.mirror`    the index's mirror of the events (idempotent, reorg-aware)
- :mod:`.importer`  bulk load of a customs list (CSV), journalled and resumable
- :mod:`.queries`   what the API and the CLI answer about one trader
- :mod:`.models`    the index tables; :mod:`.errors` the typed errors; :mod:`.cli` ``traceledger whitelist``
"""
