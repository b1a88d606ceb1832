"""reach2: a workspace's banned-word list for content moderation; normal tasks and their hidden carriers

`bannedword` (workspace, word, who added it): a touch component whose text holds one of its workspace's words
cannot be published (engine/flow/moderation.py). Matched case-insensitively; the admin edits the list on the
Reach Tasks page. `normaltask`: a task created on the Reach Tasks page, sent as a one-component round of a
hidden carrier activity (`activity.hidden`, in no activity list).

Revision ID: 0013_reach2
Revises: 0012
Create Date: 2026-12-05 12:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_reach2'
down_revision: str | None = '0013_process'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'bannedword',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('word', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace_id', 'word'),
    )
    with op.batch_alter_table('bannedword', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bannedword_workspace_id'), ['workspace_id'], unique=False)
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default='0', nullable=False))
    op.create_table(
        'normaltask',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('audience_id', sa.Integer(), nullable=False),
        sa.Column('send_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('status', sa.Enum('moderating', 'rejected', 'scheduled', 'sent', name='normaltaskstatus',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.ForeignKeyConstraint(['audience_id'], ['audience.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user.id']),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('normaltask', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_normaltask_workspace_id'), ['workspace_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('normaltask', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_normaltask_workspace_id'))
    op.drop_table('normaltask')
    # not batch mode: rebuilding `activity` with foreign keys on would cascade-delete every version
    op.drop_column('activity', 'hidden')
    with op.batch_alter_table('bannedword', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bannedword_workspace_id'))
    op.drop_table('bannedword')
