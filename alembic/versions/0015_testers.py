"""testers: staff contacts as testers (issue 14, seed 004)

`user.phone` and `user.email` (a staff member's contact, set in Settings → Users); `customer.staff_user_id`
(the hidden customer row a staff tester's test sends go through, kept out of audiences, estimates and the
customer list) with its unique index.

Revision ID: 0015_testers
Revises: 0014_reachperf
Create Date: 2026-12-05 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015_testers'
down_revision: str | None = '0014_reachperf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # in place (no batch rebuild): `user` is every table's parent, `customer` holds millions of rows
    op.add_column('user', sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.add_column('user', sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    op.add_column('customer', sa.Column('staff_user_id', sa.Integer(), nullable=True))
    op.create_index('ux_customer_staff_user', 'customer', ['staff_user_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_customer_staff_user', table_name='customer')
    op.execute('ALTER TABLE customer DROP COLUMN staff_user_id')
    op.execute('ALTER TABLE "user" DROP COLUMN email')
    op.execute('ALTER TABLE "user" DROP COLUMN phone')
