"""reentry: re-entry rules of an activity (issue 16)

`activity.reentry` (every_time — today's behaviour, the default — / once / after_days), `activity.reentry_days`
(the N of "again after N days") and `activity.one_live_run` (at most one live run per customer at a time).
Where customers entered and who is inside lives in Redis (engine/runtime/reentry.py).

Revision ID: 0016_reentry
Revises: 0016_pacing
Create Date: 2026-12-06 00:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_reentry'
down_revision: str | None = '0016_pacing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # in place (no batch rebuild): `activity` is a parent table
    op.add_column('activity', sa.Column('reentry', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                        server_default='every_time'))
    op.add_column('activity', sa.Column('reentry_days', sa.Integer(), nullable=True))
    op.add_column('activity', sa.Column('one_live_run', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute('ALTER TABLE activity DROP COLUMN one_live_run')
    op.execute('ALTER TABLE activity DROP COLUMN reentry_days')
    op.execute('ALTER TABLE activity DROP COLUMN reentry')
