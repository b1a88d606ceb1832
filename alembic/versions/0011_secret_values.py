"""secret values: component secrets move out of the flows into `secretvalue`, encrypted

A flow's secret field (webhook `secret`, webhook headers that carry a credential) now holds only
`{"$secret": "<id>"}`; the value is a `secretvalue` row encrypted with the SECRETS_KEY Fernet key
(engine/secrets.py). Every stored version's plain secrets are moved out here; versions of one activity holding
the same value at the same node and field share one row. Downgrade puts the values back into the flows.

Revision ID: 0011
Revises: 0010_workspace_tz
Create Date: 2026-12-04 19:40:00
"""
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010_workspace_tz'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the secret fields when this migration was written (engine/components/secret.py derives them today)
SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "api-key"}
SECRET_WORDS = re.compile(r"token|secret|password|passwd|api[-_]?key|auth|signature|credential", re.I)

VERSIONS = sa.table("activityversion", sa.column("id", sa.Integer), sa.column("activity_id", sa.Integer),
                    sa.column("flow", sa.JSON))
SECRETS = sa.table("secretvalue", sa.column("id", sa.String), sa.column("activity_id", sa.Integer),
                   sa.column("node_id", sa.String), sa.column("field", sa.String),
                   sa.column("ciphertext", sa.LargeBinary), sa.column("created_at", sa.DateTime))


def _slots(flow: Any) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(node id, field path, container, key) of each secret place of the webhooks of a flow."""
    for node in (flow or {}).get("nodes") or []:
        config = node.get("config") if isinstance(node, dict) else None
        if node.get("type") != "webhook" or not isinstance(config, dict):
            continue
        if "secret" in config:
            yield str(node.get("id")), "secret", config, "secret"
        headers = config.get("headers")
        for name in list(headers) if isinstance(headers, dict) else []:
            if name.strip().lower() in SECRET_HEADERS or SECRET_WORDS.search(name):
                yield str(node.get("id")), f"headers.{name}", headers, name


def upgrade() -> None:
    op.create_table(
        'secretvalue',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('node_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_secretvalue_activity_id', 'secretvalue', ['activity_id'], unique=False)
    conn = op.get_bind()
    shared: dict[tuple[int, str, str, str], str] = {}
    for vid, activity_id, flow in conn.execute(sa.select(VERSIONS.c.id, VERSIONS.c.activity_id, VERSIONS.c.flow)):
        changed = False
        for node_id, path, container, key in _slots(flow):
            value = container[key]
            if not isinstance(value, str) or not value:
                continue
            at = (int(activity_id), node_id, path, value)
            if at not in shared:
                from engine.secrets import encrypt  # the key only when there is something to encrypt

                shared[at] = uuid.uuid4().hex
                conn.execute(SECRETS.insert().values(id=shared[at], activity_id=activity_id, node_id=node_id[:64],
                                                     field=path[:300], ciphertext=encrypt(value),
                                                     created_at=datetime.now(UTC)))
            container[key] = {"$secret": shared[at]}
            changed = True
        if changed:
            conn.execute(VERSIONS.update().where(VERSIONS.c.id == vid).values(flow=flow))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(SECRETS.c.id, SECRETS.c.ciphertext)).all()
    if rows:
        from engine.secrets import decrypt

        values = {sid: decrypt(token) for sid, token in rows}
        for vid, flow in conn.execute(sa.select(VERSIONS.c.id, VERSIONS.c.flow)).all():
            changed = False
            for _, _, container, key in _slots(flow):
                ref = container[key]
                if isinstance(ref, dict) and "$secret" in ref:
                    container[key] = values.get(ref["$secret"], "")
                    changed = True
            if changed:
                conn.execute(VERSIONS.update().where(VERSIONS.c.id == vid).values(flow=flow))
    op.drop_index('ix_secretvalue_activity_id', table_name='secretvalue')
    op.drop_table('secretvalue')
