"""Every table of the index, gathered so Alembic sees one metadata.

Tables are defined next to the code that owns them (``ledger/log/models.py``
...); this module only imports them.
"""

from sqlmodel import SQLModel

import ledger.anchor.models  # noqa: F401  (each import registers that domain's tables)
import ledger.capture.models  # noqa: F401
import ledger.chain.mirror  # noqa: F401
import ledger.log.models  # noqa: F401
import ledger.participants.models  # noqa: F401
import ledger.records.models  # noqa: F401
import ledger.status.models  # noqa: F401
import ledger.trace.models  # noqa: F401
import ledger.whitelist.models  # noqa: F401

metadata = SQLModel.metadata
