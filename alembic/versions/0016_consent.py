"""consent: per customer and channel (issue 15)

`customerconsent` (the current status per customer and channel; no row = unknown, allowed) and `consentchange`
(every change, never updated).

Revision ID: 0016_consent
Revises: 0016_caps
Create Date: 2026-12-06 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_consent'
down_revision: str | None = '0016_caps'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'customerconsent',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('changed_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', 'channel'),
    )
    op.create_table(
        'consentchange',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('previous', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('changed_by', sa.Integer(), nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_consentchange_customer', 'consentchange', ['customer_id', 'changed_at'])


def downgrade() -> None:
    op.drop_index('ix_consentchange_customer', table_name='consentchange')
    op.drop_table('consentchange')
    op.drop_table('customerconsent')
