"""admin settings: named API keys, deactivated users, last sign-in

The table `apikey` (several named keys per workspace, each with a recognisable prefix, its creator, last use and
revocation); the workspace's one key (`workspace.api_key_hash`) moves into it as "Workspace key" (its prefix is
unknown: only the hash was kept) and the column goes. `user.active` (existing users stay active) and
`user.last_login_at`.

Revision ID: 0014_settings
Revises: 0013_approval
Create Date: 2026-12-05 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014_settings'
down_revision: str | None = '0013_approval'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED_NAME = "Workspace key"


def upgrade() -> None:
    op.create_table(
        'apikey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_apikey_workspace_id', 'apikey', ['workspace_id'])
    op.create_index('ux_apikey_key_hash', 'apikey', ['key_hash'], unique=True)
    op.execute(sa.text(
        "INSERT INTO apikey (workspace_id, name, key_hash, prefix, created_at) "
        "SELECT id, :name, api_key_hash, '', created_at FROM workspace WHERE api_key_hash IS NOT NULL"
    ).bindparams(name=MOVED_NAME))
    op.drop_index('ux_workspace_api_key_hash', table_name='workspace')
    # a plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): batch mode would rebuild `workspace`, whose DROP TABLE
    # the other tables' foreign keys refuse
    op.execute("ALTER TABLE workspace DROP COLUMN api_key_hash")
    # in place too: `user` is every table's parent
    op.add_column('user', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('user', sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE "user" DROP COLUMN last_login_at')
    op.execute('ALTER TABLE "user" DROP COLUMN active')
    op.add_column('workspace', sa.Column('api_key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index('ux_workspace_api_key_hash', 'workspace', ['api_key_hash'], unique=True)
    # one key per workspace again: its newest key still in use
    op.execute(
        "UPDATE workspace SET api_key_hash = (SELECT k.key_hash FROM apikey k WHERE k.workspace_id = workspace.id "
        "AND k.revoked_at IS NULL ORDER BY k.created_at DESC, k.id DESC LIMIT 1)"
    )
    op.drop_table('apikey')
