"""reachperf: a stored row per Reach Task (the list over 100,000 tasks in SQL), normal tasks on every channel

`reachtask`: one row per (round × touch component) of a visible activity and per normal task, with the columns
the Reach Tasks list filters, sorts and counts on and one index per filter / sort (engine/models/reach_task.py;
written by engine/shared/reach_rows.py). Back-filled here from the rounds, their persisted counters and the
normal tasks. `normaltask.config`: the channel component's config a normal task sends.

Revision ID: 0014_reachperf
Revises: 0014_channels
Create Date: 2026-12-05 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014_reachperf'
down_revision: str | None = '0014_channels'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    'ix_reachtask_started': ['workspace_id', 'channel', 'started_at', 'id'],
    'ix_reachtask_status': ['workspace_id', 'channel', 'status', 'started_at', 'id'],
    'ix_reachtask_kind': ['workspace_id', 'channel', 'kind', 'started_at', 'id'],
    'ix_reachtask_name': ['workspace_id', 'channel', 'sort_name', 'id'],
    'ix_reachtask_activity_name': ['workspace_id', 'channel', 'sort_activity', 'number', 'id'],
    'ix_reachtask_audience': ['workspace_id', 'channel', 'audience', 'id'],
    'ix_reachtask_sent': ['workspace_id', 'channel', 'sent', 'id'],
    'ix_reachtask_success': ['workspace_id', 'channel', 'success', 'id'],
    'ix_reachtask_failed': ['workspace_id', 'channel', 'failed', 'id'],
    'ix_reachtask_status_rank': ['workspace_id', 'channel', 'status_rank', 'id'],
    'ix_reachtask_visible': ['workspace_id', 'channel', 'is_public', 'owner_id', 'status'],
    'ix_reachtask_activity': ['activity_id', 'channel', 'started_at', 'id'],
    'ix_reachtask_moving': ['status', 'record_id'],
}


def upgrade() -> None:
    # in place (ADD COLUMN): no table rebuild under the foreign keys
    op.add_column('normaltask', sa.Column('config', sa.JSON(), nullable=False, server_default='{}'))
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        'reachtask',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel', text(length=20), nullable=False),
        sa.Column('kind', text(length=10), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('node_id', text(length=40), nullable=False),
        sa.Column('normal_task_id', sa.Integer(), nullable=True),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', text(length=200), nullable=False),
        sa.Column('name_suffix', text(length=80), nullable=False),
        sa.Column('activity_name', text(length=60), nullable=False),
        sa.Column('sort_name', text(length=200), nullable=False),
        sa.Column('sort_activity', text(length=60), nullable=False),
        sa.Column('status', text(length=20), nullable=False),
        sa.Column('status_rank', sa.Integer(), nullable=False),
        sa.Column('status_reason', text(length=500), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('audience', sa.Integer(), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('success', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('pending', sa.Integer(), nullable=False),
        sa.Column('not_sent', sa.Integer(), nullable=False),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('reviewable', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['normal_task_id'], ['normaltask.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('record_id', 'node_id'),
        sa.UniqueConstraint('normal_task_id'),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, 'reachtask', columns)
    from engine.shared.reach_rows import backfill  # the rows as the engine writes them (one definition)

    backfill(op.get_bind())


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name='reachtask')
    op.drop_table('reachtask')
    # not batch mode: rebuilding `normaltask` is not needed to drop a column on SQLite >= 3.35
    op.drop_column('normaltask', 'config')
