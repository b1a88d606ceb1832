"""pacing: send windows and send-rate limits (issue 16)

`activitypacing` (an activity's send window in the customers' local time, what happens outside it, and its
messages-per-minute limit) and `channelratelimit` (a workspace's messages-per-minute limit per channel).
New tables only: no parent table is altered.

Revision ID: 0016_pacing
Revises: 0016_goals
Create Date: 2026-12-05 23:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_pacing'
down_revision: str | None = '0016_goals'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'activitypacing',
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('window_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column('window_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column('outside', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('max_per_minute', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('activity_id'),
    )
    op.create_table(
        'channelratelimit',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('max_per_minute', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'channel'),
    )


def downgrade() -> None:
    op.drop_table('channelratelimit')
    op.drop_table('activitypacing')
