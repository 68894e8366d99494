"""Alembic environment: runs on the connection ``ledger.index.db.migrate`` hands in.

For autogenerating a revision during development:
``python -m ledger.index.revision "message"`` (see that module).
"""

from alembic import context

from ledger.index.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through ledger.index.db.migrate(), which passes a connection")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
