"""Execution Records: list with a status filter; Stop one round; Re-run after a crowd-data failure.

These functions own the record rules and their effect on the activity status, so the drawer's buttons and the
engine share them. A stopped round is In Progress no more, so no walk routes it further (engine/runtime/step.py
`round_context`: a walk about to begin, or a parked batch waking up, is a no-op), and once the stop is committed
its counters so far are persisted. A re-run is a new record the scheduler's outbox hands to the workers like
any other round.
"""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, func, select

from engine import clock
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Activity, ActivityVersion, ExecutionRecord, RecordTrigger, Schedule, User
from engine.permissions import require
from engine.services import activities
from engine.services.events import after_commit
from engine.status import (
    RERUNNABLE_FAILURES,
    Action,
    ActivityStatus,
    RecordAction,
    RecordStatus,
    StatusError,
    record_allowed,
    record_transition,
)


class RecordRow(BaseModel):
    id: int
    number: int
    version_number: int
    status: str
    status_label: str
    trigger: str
    started_at: datetime
    ended_at: datetime | None
    failure_reason: str | None
    can_stop: bool
    can_rerun: bool
    rerun_pending: bool


def _can_rerun(record: ExecutionRecord) -> bool:
    return record_allowed(record.status, RecordAction.RERUN) and record.failure_kind in RERUNNABLE_FAILURES


def list_records(*, session: Session, actor: User, activity_id: int, status: str | None = None) -> list[RecordRow]:
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    stmt = (
        select(ExecutionRecord, ActivityVersion.number)
        .join(ActivityVersion, ActivityVersion.id == ExecutionRecord.version_id)
        .where(ExecutionRecord.activity_id == activity.id)
        .order_by(ExecutionRecord.number.desc())  # type: ignore[attr-defined]
    )
    if status:
        if status not in {s.value for s in RecordStatus}:
            raise Invalid(f"Unknown record status '{status}'.")
        stmt = stmt.where(ExecutionRecord.status == status)
    return [
        RecordRow(id=r.id, number=r.number, version_number=vnum, status=r.status,
                  status_label=RecordStatus(r.status).label, trigger=r.trigger, started_at=r.started_at,
                  ended_at=r.ended_at, failure_reason=r.failure_reason,
                  can_stop=record_allowed(r.status, RecordAction.STOP), can_rerun=_can_rerun(r) and not r.rerun_pending,
                  rerun_pending=r.rerun_pending)
        for r, vnum in session.exec(stmt).all()
    ]


def _record(session: Session, actor: User, record_id: int) -> tuple[Activity, ExecutionRecord]:
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    activity = activities.get_activity(session=session, actor=actor, activity_id=record.activity_id)
    return activity, record


def _running(session: Session, activity: Activity, *, besides: int | None = None) -> int:
    return session.exec(select(func.count()).select_from(ExecutionRecord).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        ExecutionRecord.id != besides)).one()


def stop_record(*, session: Session, actor: User, record_id: int) -> ExecutionRecord:
    """Stop one round. A one-time activity stops with it; a periodic one keeps its next cycles."""
    activity, record = _record(session, actor, record_id)
    require(actor, activity, Action.STOP)
    try:
        record.status = record_transition(record.status, RecordAction.STOP)
    except StatusError as err:
        raise Conflict(str(err)) from err
    record.ended_at = clock.now()
    session.add(record)
    if activity.schedule == Schedule.ONCE and activity.status == ActivityStatus.IN_PROGRESS \
            and not _running(session, activity, besides=record.id):
        activities.stop(session=session, actor=actor, activity_id=activity.id)
    session.flush()
    after_commit(session, lambda rid=int(record.id): _persist_stopped(rid))  # type: ignore[arg-type,misc]
    return record


def _persist_stopped(record_id: int) -> None:
    """Persist the stopped round's counters so far (Redis keeps them 8 days; a walk still finishing adds to
    them there, and counters_of overlays Redis on the persisted copy while it has them)."""
    from engine.db import write_session
    from engine.runtime.connection import get_redis
    from engine.runtime.rounds import persist_counters
    from engine.runtime.store import RoundStore

    store = RoundStore(get_redis())
    with write_session() as session:
        persist_counters(session, record_id, store)


def rerun_record(*, session: Session, actor: User, record_id: int) -> ExecutionRecord:
    """Re-run a round that failed to obtain crowd data: at once when no round is in progress (a new record,
    not counted against max runs, not limited by the time window), otherwise after the running round ends
    (the record is marked and the engine picks it up)."""
    activity, record = _record(session, actor, record_id)
    require(actor, activity, Action.RERUN)
    try:
        record_transition(record.status, RecordAction.RERUN)
    except StatusError as err:
        raise Conflict(str(err)) from err
    if not _can_rerun(record):
        raise Conflict("Only a round that failed to obtain the crowd data or lost its engine state can be re-run.")
    if record.rerun_pending:
        raise Conflict("This round is already queued to re-run after the round in progress.")
    if _running(session, activity):
        record.rerun_pending = True
        session.add(record)
        session.flush()
        return record
    next_status = activities.transition_or_conflict(activity, Action.RERUN)
    if next_status == ActivityStatus.IN_PROGRESS and activity.status != ActivityStatus.IN_PROGRESS:
        activities.require_capacity(session, activity)
    activity.status = next_status
    rerun = activities.new_record(session, activity, RecordTrigger.RERUN, rerun_of=record)
    session.add(activity)
    session.flush()
    return rerun
