"""customer routes: one row per customer and walk for the components that only route, step rows for sends

`customerroute` (record_id, customer_id, start_node) → at, route (JSON {node: branch}, or {node: [branch,
result, reason]} for a failed or parked passage), WITHOUT ROWID on SQLite. `customerstep` keeps only the
sending components' rows (results that receipts, the 72-hour rule, the dashboard and Generate Crowd update and
read one by one) and loses its `customer_id` index (a customer's rows are found through the primary key with
the flow's send nodes). Existing rows of the other components move into one route row per (record, customer),
started at the flow's trigger, stamped with their earliest time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:50:00
"""
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the sending component types when this migration was written (their rows stay in customerstep)
SEND_TYPES = ("text_sms", "digital_sms", "email", "wechat_message", "template_message", "app_push", "webhook",
              "push_kafka")


def _flows() -> list[tuple[int, dict[str, Any]]]:
    rows = op.get_bind().execute(sa.text(
        "SELECT r.id, v.flow FROM executionrecord r JOIN activityversion v ON v.id = r.version_id")).all()
    return [(int(rid), json.loads(flow) if isinstance(flow, str) else (flow or {})) for rid, flow in rows]


def _trigger(flow: dict[str, Any]) -> str:
    targets = {str(e.get("target")) for e in flow.get("edges") or []}
    return next((str(n["id"]) for n in flow.get("nodes") or [] if str(n.get("id")) not in targets), "")


def _value(branch: str, result: str, reason: str | None) -> Any:
    return branch if result == "passed" and reason is None else [branch, result, reason]


def upgrade() -> None:
    op.create_table('customerroute',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('start_node', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['executionrecord.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', 'customer_id', 'start_node'),
    sqlite_with_rowid=False)
    bind = op.get_bind()
    for record_id, flow in _flows():
        sends = [str(n["id"]) for n in flow.get("nodes") or [] if n.get("type") in SEND_TYPES]
        rows = bind.execute(sa.text(
            "SELECT customer_id, node_id, branch, result, reason, at FROM customerstep WHERE record_id = :r"),
            {"r": record_id}).all()
        routes: dict[int, dict[str, Any]] = defaultdict(dict)
        first: dict[int, Any] = {}
        for cid, node, branch, result, reason, at in rows:
            if node in sends:
                continue
            routes[cid][node] = _value(branch, result, reason)
            first[cid] = min(first.get(cid, at), at)
        if not routes:
            continue
        bind.execute(sa.text("INSERT INTO customerroute (record_id, customer_id, start_node, at, route) "
                             "VALUES (:r, :c, :s, :a, :route)"),
                     [{"r": record_id, "c": cid, "s": _trigger(flow), "a": first[cid],
                       "route": json.dumps(route, separators=(",", ":"))} for cid, route in routes.items()])
        bind.execute(sa.text("DELETE FROM customerstep WHERE record_id = :r"
                             + (" AND node_id NOT IN :sends" if sends else "")).bindparams(
            *([sa.bindparam("sends", expanding=True)] if sends else [])), {"r": record_id, "sends": sends})
    op.drop_index('ix_customerstep_customer_id', table_name='customerstep')


def downgrade() -> None:
    bind = op.get_bind()
    op.create_index('ix_customerstep_customer_id', 'customerstep', ['customer_id'], unique=False)
    rows = bind.execute(sa.text("SELECT record_id, customer_id, start_node, at, route FROM customerroute "
                                "ORDER BY at")).all()
    steps: dict[tuple[int, str, int], dict[str, Any]] = {}
    for record_id, cid, _start, at, route in rows:
        for node, value in json.loads(route).items():
            branch, result, reason = (value, "passed", None) if isinstance(value, str) else value
            steps[(record_id, node, cid)] = {"r": record_id, "n": node, "c": cid, "b": branch, "res": result,
                                             "reason": reason, "at": at}
    if steps:
        bind.execute(sa.text("INSERT INTO customerstep (record_id, node_id, customer_id, branch, result, reason, at)"
                             " VALUES (:r, :n, :c, :b, :res, :reason, :at)"), list(steps.values()))
    op.drop_table('customerroute')
