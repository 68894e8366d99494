"""product status mirror; contract_cursor replaces whitelist_cursor

Revision ID: 7406dc90a54b
Revises: 69d27a63b1e2
Create Date: 2026-11-29 11:34:28.946841
"""

from alembic import op
import sqlalchemy as sa


revision = '7406dc90a54b'
down_revision = '69d27a63b1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The whitelist's cursor table keyed by contract serves every contract mirror now.
    op.rename_table('whitelist_cursor', 'contract_cursor')
    op.add_column('contract_cursor', sa.Column('name', sa.String(length=64), nullable=True))
    op.execute("UPDATE contract_cursor SET name = 'TraderWhitelist'")
    op.create_table('product_status',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.String(length=66), nullable=False),
    sa.Column('owner_participant_id', sa.String(length=66), nullable=True),
    sa.Column('recalled', sa.Boolean(), nullable=False),
    sa.Column('recall_notice', sa.String(length=256), nullable=True),
    sa.Column('recall_reason_hash', sa.String(length=66), nullable=True),
    sa.Column('recalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recalled_by', sa.String(length=66), nullable=True),
    sa.Column('recall_tx', sa.String(length=66), nullable=True),
    sa.Column('recall_block', sa.BigInteger(), nullable=True),
    sa.Column('pack_status', sa.String(length=16), nullable=True),
    sa.Column('decommissioned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decommissioned_by', sa.String(length=66), nullable=True),
    sa.Column('decommission_tx', sa.String(length=66), nullable=True),
    sa.Column('decommission_block', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('product_status_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contract', sa.String(length=42), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('block_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.String(length=66), nullable=False),
    sa.Column('participant_id', sa.String(length=66), nullable=False),
    sa.Column('notice', sa.String(length=256), nullable=True),
    sa.Column('reason_hash', sa.String(length=66), nullable=True),
    sa.Column('pack_status', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract', 'block_hash', 'log_index', name='uq_product_status_event_log')
    )
    with op.batch_alter_table('product_status_event', schema=None) as batch_op:
        batch_op.create_index('ix_product_status_event_block', ['contract', 'block_number'], unique=False)
        batch_op.create_index('ix_product_status_event_key', ['key', 'block_number', 'log_index'], unique=False)
        batch_op.create_index('ix_product_status_event_participant', ['participant_id', 'kind'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('product_status_event', schema=None) as batch_op:
        batch_op.drop_index('ix_product_status_event_participant')
        batch_op.drop_index('ix_product_status_event_key')
        batch_op.drop_index('ix_product_status_event_block')

    op.drop_table('product_status_event')
    op.drop_table('product_status')
    with op.batch_alter_table('contract_cursor', schema=None) as batch_op:
        batch_op.drop_column('name')
    op.rename_table('contract_cursor', 'whitelist_cursor')
