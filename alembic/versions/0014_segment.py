"""Segment-compatible events API: seen messageIds, anonymousId links, events waiting for their anonymousId

Tables `eventmessage` (dedupe of `messageId` per workspace, purged after a TTL), `anonymouslink` (anonymousId ->
customer) and `anonymousevent` (events of not yet identified anonymousIds). See engine/models/segment.py.

Revision ID: 0014_segment
Revises: 0014_templates
Create Date: 2026-12-05 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014_segment'
down_revision: str | None = '0014_templates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'eventmessage',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'message_id'),
    )
    op.create_index('ix_eventmessage_received_at', 'eventmessage', ['received_at'])
    op.create_table(
        'anonymouslink',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('anonymous_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'anonymous_id'),
    )
    op.create_index('ix_anonymouslink_customer_id', 'anonymouslink', ['customer_id'])
    op.create_table(
        'anonymousevent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('anonymous_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('properties', sa.JSON(), nullable=True),
        sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_anonymousevent_ws_anon', 'anonymousevent', ['workspace_id', 'anonymous_id'])
    op.create_index('ix_anonymousevent_received_at', 'anonymousevent', ['received_at'])


def downgrade() -> None:
    op.drop_table('anonymousevent')
    op.drop_table('anonymouslink')
    op.drop_table('eventmessage')
