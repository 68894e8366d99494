"""Developer tool: autogenerate an Alembic revision from the current models.

    python -m ledger.index.revision "add checkpoints"

It migrates a scratch SQLite database to head, compares it with the models
and writes the difference as a new file in ``migrations/versions``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from ledger.index.db import MIGRATIONS_DIR, create_index_engine, migrate


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_index_engine(f"sqlite:///{Path(scratch) / 'scratch.sqlite'}")
        migrate(engine)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")
