"""customers: indexes of the Customers page's prefix search

Search by QAID, name, phone or email prefix (engine/services/customers.py) reads one index range per field
instead of scanning a million customers:
- SQLite compares text byte-wise, so a prefix is the range [p, p with its last character incremented): the
  unique (workspace_id, qaid) index serves QAIDs, and (workspace_id, lower(name)), (workspace_id, lower(email))
  and (workspace_id, phone) the others (name and email are matched case-insensitively, phones are stored
  normalised: engine/shared/customers.py `normalize_phone`).
- PostgreSQL compares text in the database's collation, where that range is not a prefix: the same indexes are
  built with `text_pattern_ops`, which serves `LIKE 'p%'` under any collation (one more for the QAID: the unique
  constraint's index cannot take an operator class).

Revision ID: 0013_customers
Revises: 0012
Create Date: 2026-12-05 12:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013_customers'
down_revision: str | None = '0013_reach2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name -> (SQLite columns, PostgreSQL columns)
INDEXES: dict[str, tuple[str, str]] = {
    "ix_customer_ws_name_lower": ("workspace_id, lower(name)", "workspace_id, lower(name) text_pattern_ops"),
    "ix_customer_ws_email_lower": ("workspace_id, lower(email)", "workspace_id, lower(email) text_pattern_ops"),
    "ix_customer_ws_phone": ("workspace_id, phone", "workspace_id, phone text_pattern_ops"),
}
PG_ONLY = {"ix_customer_ws_qaid_prefix": "workspace_id, qaid text_pattern_ops"}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, (lite, pg) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON customer ({pg if postgres else lite})")
    if postgres:
        for name, columns in PG_ONLY.items():
            op.execute(f"CREATE INDEX {name} ON customer ({columns})")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in [*INDEXES, *(PG_ONLY if postgres else {})]:
        op.execute(f"DROP INDEX {name}")
