"""crowd outbox: Generate Crowd operations remember when they were handed to the workers

`crowdoperation.dispatched_at` (NULL until the operation's message is in the broker): the scheduler enqueues
running operations without it, so a crash between the request's commit and its enqueue cannot leave an
operation "running" with nobody working on it. Running operations of before this migration are enqueued once
more (a duplicate message finds the operation finished, or finishes it once: engine/services/crowds.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('crowdoperation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispatched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crowdoperation', schema=None) as batch_op:
        batch_op.drop_column('dispatched_at')
