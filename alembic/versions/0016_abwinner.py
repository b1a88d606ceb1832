"""abwinner: the automatic winner of an AB test per round (issue 16)

A new table `abdecision` (record, AB Test component) → winner, kind, reason, level, p-value, customers, the
groups' numbers at the pick and when. Nothing else changes.

Revision ID: 0016_abwinner
Revises: 0015_testers
Create Date: 2026-12-06 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_abwinner'
down_revision: str | None = '0015_testers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'abdecision',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('node_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('winner', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column('p_value', sa.Float(), nullable=True),
        sa.Column('customers', sa.Integer(), nullable=False),
        sa.Column('stats', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('record_id', 'node_id'),
    )


def downgrade() -> None:
    op.drop_table('abdecision')
