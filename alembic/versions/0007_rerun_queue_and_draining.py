"""queued re-runs wait for the rounds they were asked behind; a republish drains the rounds it takes over

`rerun_after`: the number of the newest round in progress when a Re-run was queued; the re-run starts once no
round numbered up to it is in progress (rounds begun later, e.g. overlapping periodic cycles, never hold it).
`drained_by_id`: the round of the newer version that took over from this one (its entry closed, the customers
inside finish on it); a republish round never enters anyone who entered the rounds it continues.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('executionrecord', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rerun_after', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('drained_by_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_executionrecord_drained_by_id', ['drained_by_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('executionrecord', schema=None) as batch_op:
        batch_op.drop_index('ix_executionrecord_drained_by_id')
        batch_op.drop_column('drained_by_id')
        batch_op.drop_column('rerun_after')
