"""The scheduler's refresh of the stored Reach Task rows still moving (To be sent, Sending): their rounds run or
await receipts, so their numbers and status change with the Redis counters, which the walk and the receipts
write without touching the database. One read of the moving rows, one pipelined Redis read of their rounds'
counters, and a write only of the rows that changed (on SQLite the write lock is taken only then): the engine's
hot paths pay nothing, and the list's filters and sorts are at most one refresh behind (engine/shared/reach_rows.py).
"""

import logging
from datetime import datetime

import redis
from sqlalchemy import select
from sqlmodel import Session

from engine.db import read_session, write_session
from engine.models import ExecutionRecord, table_of
from engine.models.reach_task import ReachTaskRow
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.shared.reach_rows import MOVING, Facts, measured, persisted_counters, write_changes

log = logging.getLogger("engine.scheduler")

_ROWS = table_of(ReachTaskRow)
_R = table_of(ExecutionRecord)
_NUMBERS = ("status", "status_rank", "status_reason", "audience", "sent", "success", "failed", "pending",
            "not_sent")


def refresh_moving(store: RoundStore, now: datetime) -> int:
    """Bring the moving rows up to their counters; returns how many rows changed."""
    with read_session() as session:
        conn = session.connection()
        rows = conn.execute(
            select(_ROWS.c.id, _ROWS.c.record_id, _ROWS.c.node_id, *[_ROWS.c[n] for n in _NUMBERS],
                   _R.c.status.label("round_status"), _R.c.ended_at, _R.c.failure_reason)
            .join(_R, _R.c.id == _ROWS.c.record_id).where(_ROWS.c.status.in_(MOVING))).all()
        if not rows:
            return 0
        record_ids = sorted({int(r.record_id) for r in rows})
        counters = persisted_counters(conn, record_ids)
    try:
        live = store.counters_many(record_ids)
    except redis.RedisError as err:  # the next tick tries again
        log.warning("reach task refresh: counters unavailable: %s", err)
        return 0
    for rid, nodes in live.items():
        for node, metrics in nodes.items():
            counters.setdefault(rid, {}).setdefault(node, {}).update(metrics)
    changes = []
    for r in rows:
        facts = Facts(str(r.round_status), r.ended_at, r.failure_reason)
        new = measured(facts, counters.get(int(r.record_id), {}).get(str(r.node_id), {}), now)
        if any(new[n] != getattr(r, n) for n in _NUMBERS):
            changes.append({"_id": r.id, "updated_at": now, **new})
    if changes:
        with write_session() as session:
            write_changes(session.connection(), changes)
    return len(changes)



def live_counters(session: Session, record_ids: list[int],
                  node_ids: set[str] | None = None) -> dict[int, dict[str, dict[str, int]]]:
    """`execution.counters_of` for many rounds at once (optionally only some components): the persisted copy (one
    query per 900 rounds) overlaid with what Redis holds (one pipelined round trip). The rows a Reach Tasks page
    shows read their numbers here, live."""
    persisted = persisted_counters(session.connection(), record_ids)
    if node_ids is not None:
        persisted = {rid: {n: m for n, m in nodes.items() if n in node_ids} for rid, nodes in persisted.items()}
    try:
        live = RoundStore(get_redis()).counters_many(record_ids) if record_ids else {}
    except redis.RedisError as err:
        log.warning("live counters of %s rounds unavailable: %s", len(record_ids), err)
        return persisted
    for rid, nodes in live.items():
        merged = persisted.setdefault(rid, {})
        for node, metrics in nodes.items():
            if node_ids is None or node in node_ids:
                merged.setdefault(node, {}).update(metrics)
    return persisted
