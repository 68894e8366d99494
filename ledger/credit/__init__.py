"""Credit profiles: transparent, verifiable grades built from the ledger's own facts.

- :mod:`.subjects`  who a profile is about (participant id or GLN; trader USCC)
- :mod:`.facts`     the fact model and catalogue; gatherers, one per source:
  :mod:`.activity`, :mod:`.refusals`, :mod:`.anchoring`, :mod:`.registry`,
  :mod:`.recalls`, :mod:`.packs`, :mod:`.trader`
- :mod:`.rules`     the versioned TOML rules (``rules.toml``) and their schema
- :mod:`.grade`     rules applied to facts: score, grade, factors with evidence
- :mod:`.profile`   one snapshot: facts, grade, timeline; :mod:`.service` for callers
- :mod:`.export`, :mod:`.verify`  the verifiable export and its check
- :mod:`.chart`, :mod:`.render`, :mod:`.report`  SVG chart, HTML sections, HTML/PDF report
- :mod:`.cli`       ``traceledger credit show|report|export``
"""
