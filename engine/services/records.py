"""Execution Records: list with a status filter; Stop one round; Re-run after a crowd-data failure.

These functions own the record rules and their effect on the activity status, so the drawer's buttons and the
engine share them. A stopped round is In Progress no more, so no walk routes it further (engine/runtime/step.py
`round_context`: a walk about to begin, or a parked batch waking up, is a no-op), and once the stop is committed
its counters so far are persisted. A re-run is a new record the scheduler's outbox hands to the workers like
any other round; asked while rounds are in progress it is queued behind them (`rerun_after`) and
engine/runtime/lifecycle.py `reruns_due` starts it when they have ended, whatever the activity became meanwhile.
A round In Progress is live, or draining when a newer version's round took over from it (`drained_by_id`).
"""

from datetime import datetime
from functools import partial

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.db import after_commit, write_session
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Activity, ActivityVersion, ExecutionRecord, Schedule, User, row_id
from engine.permissions import require
from engine.runtime.connection import get_redis
from engine.runtime.rounds import persist_counters
from engine.runtime.store import RoundStore
from engine.services import activities
from engine.shared.in_progress import gate, start_rerun
from engine.status import (
    RECORD_RULES,
    RERUNNABLE_FAILURES,
    Action,
    ActivityStatus,
    RecordAction,
    RecordStatus,
    StatusError,
    record_allowed,
    record_transition,
    round_role,
    why_not,
)


class RecordRow(BaseModel):
    id: int
    number: int
    version_number: int
    status: str
    status_label: str
    role: str  # live / draining while In Progress (status.RoundRole), else ""
    role_label: str
    trigger: str
    started_at: datetime
    ended_at: datetime | None
    failure_reason: str | None
    can_stop: bool
    can_rerun: bool
    rerun_refusal: str  # why Re-run is refused now ("" = allowed): the drawer's tooltip
    rerun_pending: bool


def rerun_refusal(record: ExecutionRecord, activity: Activity, *, rerun_as: int | None) -> str | None:
    """Why this record cannot be re-run now (None: it can), in the order a marketer needs it: the record rule,
    the failure kind, a re-run already queued or made (`rerun_as`: the number of the round that re-ran it), then
    the activity's status machine. `rerun_record` refuses with the same words the drawer shows."""
    if not record_allowed(record.status, RecordAction.RERUN):
        return f"{RECORD_RULES[RecordAction.RERUN][2]} (status: {RecordStatus(record.status).label})"
    if record.failure_kind not in RERUNNABLE_FAILURES:
        return "Only a round that failed to obtain the crowd data or lost its engine state can be re-run."
    if record.rerun_pending:
        behind = f"round #{record.rerun_after}" if record.rerun_after else "the round in progress"
        return f"Already queued: it re-runs when {behind} (and any earlier round in progress) ends."
    if rerun_as is not None:
        return f"Already re-run as round #{rerun_as}."
    return why_not(ActivityStatus(activity.status), Action.RERUN, **gate(activity))


def _rerun_as(session: Session, record: ExecutionRecord) -> int | None:
    return session.exec(select(ExecutionRecord.number).where(ExecutionRecord.rerun_of_id == record.id)
                        .order_by(col(ExecutionRecord.number))).first()


def list_records(*, session: Session, actor: User, activity_id: int, status: str | None = None) -> list[RecordRow]:
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    stmt = (
        select(ExecutionRecord, ActivityVersion.number)
        .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
        .where(ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.is_test).is_(False))
        .order_by(col(ExecutionRecord.number).desc())
    )
    if status:
        if status not in {s.value for s in RecordStatus}:
            raise Invalid(f"Unknown record status '{status}'.")
        stmt = stmt.where(ExecutionRecord.status == status)
    rerun_as: dict[int, int] = {}
    for of_id, number in session.exec(select(ExecutionRecord.rerun_of_id, ExecutionRecord.number).where(
            ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.rerun_of_id).is_not(None))
            .order_by(col(ExecutionRecord.number).desc())):
        if of_id is not None:  # the WHERE says so
            rerun_as[of_id] = number  # the first re-run wins (ascending last)
    rows = []
    for r, vnum in session.exec(stmt).all():
        role = round_role(r.status, drained=r.drained_by_id is not None)
        refusal = rerun_refusal(r, activity, rerun_as=rerun_as.get(row_id(r)))
        rows.append(RecordRow(
            id=row_id(r), number=r.number, version_number=vnum, status=r.status,
            status_label=RecordStatus(r.status).label, role=role.value if role else "",
            role_label=role.label if role else "", trigger=r.trigger, started_at=r.started_at, ended_at=r.ended_at,
            failure_reason=r.failure_reason, can_stop=record_allowed(r.status, RecordAction.STOP),
            can_rerun=refusal is None, rerun_refusal=refusal or "", rerun_pending=r.rerun_pending))
    return rows


def _record(session: Session, actor: User, record_id: int) -> tuple[Activity, ExecutionRecord]:
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    activity = activities.get_activity(session=session, actor=actor, activity_id=record.activity_id)
    return activity, record


def _in_progress(session: Session, activity: Activity, *, besides: int | None = None,
                 live_only: bool = False) -> list[int]:
    """Numbers of the activity's rounds In Progress (only the live ones: not draining)."""
    stmt = select(ExecutionRecord.number).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        ExecutionRecord.id != besides)
    if live_only:
        stmt = stmt.where(col(ExecutionRecord.drained_by_id).is_(None))
    return list(session.exec(stmt).all())


def stop_record(*, session: Session, actor: User, record_id: int) -> ExecutionRecord:
    """Stop one round. A one-time activity stops with its last live round (draining ones are not counted: the
    activity's Stop then stops them too and withdraws queued re-runs); a periodic one keeps its next cycles."""
    activity, record = _record(session, actor, record_id)
    require(actor, activity, Action.STOP)
    try:
        record.status = record_transition(record.status, RecordAction.STOP)
    except StatusError as err:
        raise Conflict(str(err)) from err
    record.ended_at = clock.now()
    session.add(record)
    if activity.schedule == Schedule.ONCE and activity.status == ActivityStatus.IN_PROGRESS \
            and not _in_progress(session, activity, besides=record.id, live_only=True):
        activities.stop(session=session, actor=actor, activity_id=row_id(activity))
    session.flush()
    after_commit(session, partial(_persist_stopped, row_id(record)))
    return record


def _persist_stopped(record_id: int) -> None:
    """Persist the stopped round's counters so far (Redis keeps them 8 days; a walk still finishing adds to
    them there, and counters_of overlays Redis on the persisted copy while it has them)."""
    store = RoundStore(get_redis())
    with write_session() as session:
        persist_counters(session, record_id, store)


def rerun_record(*, session: Session, actor: User, record_id: int) -> ExecutionRecord:
    """Re-run a round that failed to obtain crowd data: at once when no round is in progress (a new record,
    not counted against max runs, not limited by the time window), otherwise queued behind the rounds in
    progress now, draining ones included (their customers are still being sent to); the scheduler starts it
    when they have ended (engine/runtime/lifecycle.py `reruns_due`)."""
    activity, record = _record(session, actor, record_id)
    require(actor, activity, Action.RERUN)
    try:
        record_transition(record.status, RecordAction.RERUN)
    except StatusError as err:
        raise Conflict(str(err)) from err
    refusal = rerun_refusal(record, activity, rerun_as=_rerun_as(session, record))
    if refusal:
        raise Conflict(refusal)
    running = _in_progress(session, activity)
    if running:
        record.rerun_pending, record.rerun_after = True, max(running)
        session.add(record)
        session.flush()
        return record
    return start_rerun(session, activity, record)

