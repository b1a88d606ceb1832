"""outbound allow-list: the hosts, addresses and networks an admin lets webhooks and Kafka producers reach
although they are private (engine/outbound.py)

Revision ID: 0009_outbound
Revises: 0008
Create Date: 2026-12-04 19:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009_outbound'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outboundallow',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('entry'),
    )


def downgrade() -> None:
    op.drop_table('outboundallow')
