"""Cross-border trade: export declarations and customs clearance as EPCIS events,
checked against the customs trader whitelist, and the trader's credential (QR + page).

The convention (also in the README, "Cross-border events")
-----------------------------------------------------------

Both events are ObjectEvents (a TransactionEvent works the same) carrying

- ``bizTransactionList``: ``{"type": "https://traceledger.dev/voc/btt/customs_declaration",
  "bizTransaction": <declaration id as a URI>}``;
- ``tl:trader``: the declaring trader's USCC;
- ``tl:claims`` (optional): the whitelist scopes claimed for this movement,
  ``["EXPEDITED_CLEARANCE"]``, ``["OFFSHORE_TRADE"]``...;
- the ``tl`` prefix declared in the document's ``@context``:
  ``{"tl": "https://traceledger.dev/voc/"}``.

Export declaration: recorded by the exporter (any supply-chain role), CBV
bizStep ``departing`` (or ``shipping``), the exporter as ``owning_party`` in
``sourceList``. Customs clearance: bizStep
``https://traceledger.dev/voc/bizstep/customs_clearing`` (the role policy
lets only CUSTOMS record it), the customs office's party GLN in
``tl:clearedBy`` (it must be the signer's own organisation), optionally also
as a source/destination party.

At capture (:mod:`.check`): a malformed ``tl:trader`` (or ``tl:claims``,
``tl:clearedBy``) is a 400 naming ``event N, field tl:trader``; claims the
trader did not hold at the event's ``eventTime`` are refused (403, the
refusal kept with its reason: unknown / revoked / suspended / dishonest /
not yet valid / expired / scope not held), judged from the index's mirror
of the whitelist events (:mod:`.standing` says why the mirror).

Modules: :mod:`.convention` (names, builders, reading an event),
:mod:`.standing` (``trader_standing``, ``annotate_events``), :mod:`.check`
(the capture check), :mod:`.credential` (the page's data, read from the
chain), :mod:`.qr` (QR of a URL as PNG/SVG), :mod:`.sync` (keeping the
mirror current).
"""

from ledger.crossborder.convention import (
    CLAIMS,
    CLEARED_BY,
    STANDING,
    TL_CONTEXT,
    TRADER,
    crossborder_document,
    customs_clearance,
    declaration_uri,
    export_declaration,
)
from ledger.crossborder.standing import annotate_events, trader_standing

__all__ = [
    "CLAIMS",
    "CLEARED_BY",
    "STANDING",
    "TL_CONTEXT",
    "TRADER",
    "annotate_events",
    "crossborder_document",
    "customs_clearance",
    "declaration_uri",
    "export_declaration",
    "trader_standing",
]
