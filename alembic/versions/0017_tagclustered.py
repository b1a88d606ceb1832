"""tagclustered: `customertag` clustered on its key on SQLite (WITHOUT ROWID), for the rule builder's estimate

A rule's tag condition probes each candidate customer's (customer_id, tag) entry. On a rowid table that is two
B-tree searches (the key's index, then the row for its value); clustered on the key it is one. The estimate of
the 5-condition benchmark rule over 1,000,000 customers: median ~0.57 -> ~0.39 s (docs/BENCHMARKS.md). Loading a
walk's customers reads tags by customer id and gains the same way. PostgreSQL has no rowid: nothing to do.

Revision ID: 0017_tagclustered
Revises: 0016_reentry
Create Date: 2026-12-06 07:20:00
"""
import re
from collections.abc import Sequence

from alembic import op

revision: str = '0017_tagclustered'
down_revision: str | None = '0016_reentry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "CREATE INDEX ix_customertag_tag_value ON customertag (tag, value, customer_id)"


def _rebuild(*, clustered: bool) -> None:
    """Copy the table into one created from its own DDL, with or without WITHOUT ROWID (no child table refers
    to customertag, so dropping the old one is safe with foreign keys on)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    ddl = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customertag'").scalar()
    ddl = ddl.strip().removesuffix("WITHOUT ROWID").rstrip()
    ddl = re.sub(r'^CREATE TABLE "?customertag"?', "CREATE TABLE customertag_new", ddl)  # quoted once renamed
    op.execute(ddl + (" WITHOUT ROWID" if clustered else ""))
    op.execute("INSERT INTO customertag_new (customer_id, tag, value, updated_at) "
               "SELECT customer_id, tag, value, updated_at FROM customertag")
    op.execute("DROP TABLE customertag")
    op.execute("ALTER TABLE customertag_new RENAME TO customertag")
    op.execute(INDEX)


def upgrade() -> None:
    _rebuild(clustered=True)


def downgrade() -> None:
    _rebuild(clustered=False)
