"""audiences page: when a rule audience was last edited

`audience.updated_at` (NULL until the rule builder edits the audience; the list then shows its creation time).

Revision ID: 0013_audiences
Revises: 0012
Create Date: 2026-12-05 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_audiences'
down_revision: str | None = '0013_customers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audience', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # not batch mode: rebuilding `audience` with foreign keys on would cascade-delete its members
    op.drop_column('audience', 'updated_at')
