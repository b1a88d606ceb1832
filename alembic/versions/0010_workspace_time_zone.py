"""workspace time zone: the zone date-time inputs are typed in (shown with their UTC equivalent)

`workspace.time_zone` (an IANA name, e.g. Asia/Shanghai); existing workspaces get UTC, the times every page
already showed.

Revision ID: 0010_workspace_tz
Revises: 0009_outbound
Create Date: 2026-12-04 19:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_workspace_tz'
down_revision: str | None = '0009_outbound'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): batch mode would rebuild `workspace`, whose DROP TABLE
    # the other tables' foreign keys refuse
    op.execute("ALTER TABLE workspace DROP COLUMN time_zone")
