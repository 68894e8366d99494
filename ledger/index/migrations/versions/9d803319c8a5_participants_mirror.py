"""participants mirror

Revision ID: 9d803319c8a5
Revises: 2d955981726b
Create Date: 2026-11-29 09:08:51.192257
"""

import sqlalchemy as sa
from alembic import op

revision = '9d803319c8a5'
down_revision = '2d955981726b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_cursor',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('participant',
    sa.Column('id', sa.String(length=66), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('roles', sa.BigInteger(), nullable=False),
    sa.Column('registered_block', sa.BigInteger(), nullable=False),
    sa.Column('updated_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('gln')
    )
    op.create_table('registry_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('block_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=66), nullable=False),
    sa.Column('gln', sa.String(length=13), nullable=True),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('key_address', sa.String(length=42), nullable=True),
    sa.Column('role', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('block_hash', 'log_index', name='uq_registry_event_log')
    )
    with op.batch_alter_table('registry_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_event_gln'), ['gln'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_event_key_address'), ['key_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_event_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_registry_event_order', ['block_number', 'log_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_event_participant_id'), ['participant_id'], unique=False)

    op.create_table('participant_key',
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('participant_id', sa.String(length=66), nullable=False),
    sa.Column('added_block', sa.BigInteger(), nullable=False),
    sa.Column('revoked_block', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name='fk_participant_key_participant'),
    sa.PrimaryKeyConstraint('address')
    )
    with op.batch_alter_table('participant_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_key_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('participant_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_key_participant_id'))

    op.drop_table('participant_key')
    with op.batch_alter_table('registry_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_event_participant_id'))
        batch_op.drop_index('ix_registry_event_order')
        batch_op.drop_index(batch_op.f('ix_registry_event_kind'))
        batch_op.drop_index(batch_op.f('ix_registry_event_key_address'))
        batch_op.drop_index(batch_op.f('ix_registry_event_gln'))

    op.drop_table('registry_event')
    op.drop_table('participant')
    op.drop_table('chain_cursor')
