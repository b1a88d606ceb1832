"""Execution data of a round: what each component of an execution record has counted so far.

While a round is In Progress its counters live in Redis (the workers add to them); when it ends they are
persisted to NodeCounter. `counters_of` reads whichever holds the truth, so the canvas, the action analysis
panel and the dashboard all show the same numbers.
"""

import logging
from collections import defaultdict

import redis
from sqlmodel import Session, select

from engine.models import ExecutionRecord, NodeCounter
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.status import RecordStatus

log = logging.getLogger(__name__)


def persisted_counters(session: Session, record_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in session.exec(select(NodeCounter).where(NodeCounter.record_id == record_id)):
        out[row.node_id][row.metric] = row.value
    return dict(out)


def counters_of(session: Session, record: ExecutionRecord) -> dict[str, dict[str, int]]:
    """node id → metric → total for one record (no permission check: callers obtained the record through
    engine.services.activities.get_activity / records, which enforce visibility)."""
    persisted = persisted_counters(session, int(record.id))  # type: ignore[arg-type]
    if record.status != RecordStatus.IN_PROGRESS and persisted:
        return persisted
    try:
        live = RoundStore(get_redis()).counters(int(record.id))  # type: ignore[arg-type]
    except redis.RedisError as err:
        log.warning("live counters of record %s unavailable: %s", record.id, err)
        return persisted
    return live or persisted
