"""activity list indexes: the default sort (newest change first), with and without a status

The Automated Marketing list orders by updated_at (then id) inside a workspace, optionally within one status,
and reads one page. With these two indexes SQLite walks the index for the page instead of sorting the whole
workspace: 10,000 activities, first page 18 ms -> 2.6 ms, page 200 30 ms -> 7 ms (docs/BENCHMARKS.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_ws_updated', ['workspace_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_activity_ws_status_updated', ['workspace_id', 'status', 'updated_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_ws_status_updated')
        batch_op.drop_index('ix_activity_ws_updated')
