"""goals: conversion goal, exit criteria and holdout group (issue 16)

`activitygoal` (one row per activity that sets them) and `goalconversion` (one row per round and converted
customer). New tables only: no parent table is rebuilt.

Revision ID: 0016_goals
Revises: 0016_consent
Create Date: 2026-12-06 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016_goals'
down_revision: str | None = '0016_consent'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'activitygoal',
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('goal_event', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('goal_days', sa.Integer(), nullable=False),
        sa.Column('exit_on_goal', sa.Boolean(), nullable=False),
        sa.Column('exit_events', sa.JSON(), nullable=False),
        sa.Column('exit_attributes', sa.JSON(), nullable=False),
        sa.Column('holdout_pct', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('activity_id'),
    )
    op.create_table(
        'goalconversion',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('entered_at', sa.DateTime(), nullable=False),
        sa.Column('converted_at', sa.DateTime(), nullable=False),
        sa.Column('held_out', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('record_id', 'customer_id'),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table('goalconversion')
    op.drop_table('activitygoal')
