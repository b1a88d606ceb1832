"""reusable processes: `process`, the activity's process origin, and each version's audiences

`process` holds published flows saved for reuse (New from Template lists them); `activity.process_id` /
`process_name` record the process an activity was created from; `versionaudience` lists the audiences each
version's Target Audience triggers use (the list's audience filter), filled here for the versions already stored.

Revision ID: 0013_process
Revises: 0012
Create Date: 2026-12-05 12:10:00
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_process'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONS = sa.table("activityversion", sa.column("id", sa.Integer), sa.column("flow", sa.JSON))
LINKS = sa.table("versionaudience", sa.column("version_id", sa.Integer), sa.column("audience_id", sa.Integer))


def audiences(flow: Any) -> set[int]:
    """The Target Audience triggers' audience ids of a stored flow (as the component reads them today)."""
    out: set[int] = set()
    nodes = flow.get("nodes") if isinstance(flow, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict) and node.get("type") == "target_audience":
            value = config.get("audience_id")
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                out.add(value)
    return out


def upgrade() -> None:
    op.create_table(
        'process',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=90), nullable=False),
        sa.Column('flow', sa.JSON(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('source_activity_id', sa.Integer(), nullable=True),
        sa.Column('source_activity_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('source_version_number', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id']),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_process_ws_name', 'process', ['workspace_id', 'name'], unique=False)
    op.create_table(
        'versionaudience',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('audience_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['version_id'], ['activityversion.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'audience_id'),
    )
    op.create_index(op.f('ix_versionaudience_audience_id'), 'versionaudience', ['audience_id'], unique=False)
    op.add_column('activity', sa.Column('process_id', sa.Integer(), nullable=True))
    op.add_column('activity', sa.Column('process_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    op.create_index('ix_activity_ws_process', 'activity', ['workspace_id', 'process_id'], unique=False)
    bind = op.get_bind()
    rows = [{"version_id": vid, "audience_id": aid}
            for vid, flow in bind.execute(sa.select(VERSIONS.c.id, VERSIONS.c.flow)) for aid in audiences(flow)]
    if rows:
        op.bulk_insert(LINKS, rows)


def downgrade() -> None:
    # not batch mode: SQLite would copy `activity` into a new table and drop the old one, and with foreign keys
    # on that drop deletes every version (ON DELETE CASCADE); SQLite >= 3.35 drops a plain column in place
    op.drop_index('ix_activity_ws_process', table_name='activity')
    op.drop_column('activity', 'process_name')
    op.drop_column('activity', 'process_id')
    op.drop_index(op.f('ix_versionaudience_audience_id'), table_name='versionaudience')
    op.drop_table('versionaudience')
    op.drop_index('ix_process_ws_name', table_name='process')
    op.drop_table('process')
