"""Every table of the index, gathered so Alembic sees one metadata.

Tables are defined next to the code that owns them (``ledger/log/models.py``
...); this module only imports them.
"""

from sqlmodel import SQLModel

import ledger.log.models  # noqa: F401  (registers the log's tables)

metadata = SQLModel.metadata
