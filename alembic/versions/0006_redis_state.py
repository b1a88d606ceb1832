"""redis state: the database's identity (Redis is bound to it) and the inbox of receipts / events accepted
while Redis was unavailable

`databaseidentity` holds one row with a uuid generated here, once per database; `inboxitem` keeps what the API
could not hand to Redis until the scheduler applies it (engine/runtime/redis_state.py, engine/runtime/inbox.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:45:00
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    identity = op.create_table(
        'databaseidentity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(identity, [{"id": 1, "uuid": str(uuid.uuid4()), "created_at": datetime.now(UTC)}])
    op.create_table(
        'inboxitem',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('receipts', 'events', name='inboxkind', native_enum=False, length=16),
                  nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('inboxitem')
    op.drop_table('databaseidentity')
