"""What moves when a round, an activity or a crowd operation changes status without a counter write — the
changes the engine does not announce on `live:records`. The app's live hub asks it once per process every few
seconds (marketing_app/live_hub.py) and wakes its pages when the answer changes; aggregates over small tables,
no per-user data (the pages re-read through the services, which apply visibility)."""

from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select

from engine.db import read_session
from engine.models import Activity, CrowdOperation, ExecutionRecord
from engine.models.crowd import CrowdStatus
from engine.status import RecordStatus


def status_fingerprint() -> tuple[tuple[Any, ...], tuple[tuple[str, int], ...], tuple[Any, ...]]:
    r = ExecutionRecord
    running = col(r.status) == RecordStatus.IN_PROGRESS
    with read_session() as session:
        rounds = session.execute(select(
            func.max(col(r.id)), func.sum(case((running, col(r.id)), else_=0)), func.sum(case((running, 1), else_=0)),
            func.sum(case((col(r.rerun_pending).is_(True), 1), else_=0)))).one()
        activities = session.execute(select(Activity.status, func.count()).group_by(Activity.status)).all()
        c = CrowdOperation
        crowds = session.execute(select(func.max(col(c.id)), func.sum(case((col(c.status) == CrowdStatus.RUNNING, 1),
                                                                          else_=0)))).one()
    return tuple(rounds), tuple(sorted((str(a), int(n)) for a, n in activities)), tuple(crowds)
