"""crowd operations: the Generate Crowd requests of the action analysis panel

One row per request (who, when, which component of which round, which result, the audience's name), finished
by the worker that builds the audience: done with the audience and its size, or failed with the reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:41:52.977524
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crowdoperation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('status', sa.Enum('running', 'done', 'failed', name='crowdstatus', native_enum=False, length=16), nullable=False),
    sa.Column('requested', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('audience_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['audience_id'], ['audience.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crowdoperation', schema=None) as batch_op:
        batch_op.create_index('ix_crowdoperation_record_node', ['record_id', 'node_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crowdoperation_workspace_id'), ['workspace_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('crowdoperation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crowdoperation_workspace_id'))
        batch_op.drop_index('ix_crowdoperation_record_node')

    op.drop_table('crowdoperation')
