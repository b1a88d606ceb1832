"""reach2: a workspace's banned-word list for content moderation

`bannedword` (workspace, word, who added it): a touch component whose text holds one of its workspace's words
cannot be published (engine/flow/moderation.py). Matched case-insensitively; the admin edits the list on the
Reach Tasks page.

Revision ID: 0013_reach2
Revises: 0012
Create Date: 2026-12-05 12:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_reach2'
down_revision: str | None = '0012'
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


def downgrade() -> None:
    with op.batch_alter_table('bannedword', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bannedword_workspace_id'))
    op.drop_table('bannedword')
