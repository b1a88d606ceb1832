"""approval before going live (seed 004): the workspace setting, the approval status, requests, their history,
testers and test rounds

`workspace.approval_required` (off for existing workspaces), `activity.approval_status` (NULL: never asked),
`executionrecord.is_test`, and the tables `approvalrequest`, `approvalevent`, `activitytester`. The role
`reviewer` needs no schema change (roles are stored as text).

Revision ID: 0013_approval
Revises: 0012
Create Date: 2026-12-05 12:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_approval'
down_revision: str | None = '0013_audiences'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPROVAL = ('under_review', 'submission_failed', 'rejected', 'withdrawn', 'approved')


def upgrade() -> None:
    # in place (SQLite's ADD COLUMN): a batch rebuild of these parent tables would trip their foreign keys
    op.add_column('workspace', sa.Column('approval_required', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    op.add_column('activity', sa.Column('approval_status', sa.Enum(*_APPROVAL, name='approvalstatus',
                                                                   native_enum=False, length=20), nullable=True))
    op.add_column('executionrecord', sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'approvalrequest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('base_version_id', sa.Integer(), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', sa.Enum(*_APPROVAL, name='approvalstatus', native_enum=False, length=20), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['activityversion.id']),
        sa.ForeignKeyConstraint(['base_version_id'], ['activityversion.id']),
        sa.ForeignKeyConstraint(['requested_by'], ['user.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_approvalrequest_activity_id', 'approvalrequest', ['activity_id'])
    op.create_index('ix_approvalrequest_ws_status', 'approvalrequest', ['workspace_id', 'status', 'requested_at'])
    op.create_table(
        'approvalevent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('requested', 'withdrawn', 'approved', 'rejected', 'submission_failed',
                                  name='approvaleventkind', native_enum=False, length=20), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['approvalrequest.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_approvalevent_request_id', 'approvalevent', ['request_id'])
    op.create_index('ix_approvalevent_activity_id', 'approvalevent', ['activity_id'])
    op.create_table(
        'activitytester',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('added_by', sa.Integer(), nullable=False),
        sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['added_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id', 'customer_id'),
    )
    op.create_index('ix_activitytester_activity_id', 'activitytester', ['activity_id'])


def downgrade() -> None:
    op.drop_table('activitytester')
    op.drop_table('approvalevent')
    op.drop_table('approvalrequest')
    op.execute("ALTER TABLE executionrecord DROP COLUMN is_test")
    op.execute("ALTER TABLE activity DROP COLUMN approval_status")
    op.execute("ALTER TABLE workspace DROP COLUMN approval_required")
