"""caps: frequency caps (issue 16)

`frequencycap` (a workspace's rules: channel or "any", max messages, window in days) and `activity.cap_exempt`
(a transactional activity, exempt from the caps).

Revision ID: 0016_caps
Revises: 0016_abwinner
Create Date: 2026-12-06 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_caps'
down_revision: str | None = '0016_abwinner'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'frequencycap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('max_messages', sa.Integer(), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_frequencycap_workspace_id', 'frequencycap', ['workspace_id'])
    # in place (no batch rebuild): `activity` is a parent table
    op.add_column('activity', sa.Column('cap_exempt', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute('ALTER TABLE activity DROP COLUMN cap_exempt')
    op.drop_index('ix_frequencycap_workspace_id', table_name='frequencycap')
    op.drop_table('frequencycap')
