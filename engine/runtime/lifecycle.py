"""Time-driven transitions, run by the scheduler: start times, end times, periodic cycles, queued re-runs,
and retention. Each function is one transaction that reads state from the DB, so a scheduler killed and
restarted at any moment neither skips nor repeats anything."""

import calendar
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Conflict
from engine.models import Activity, ActivityVersion, ExecutionRecord, RecordTrigger, Schedule
from engine.runtime.details import purge
from engine.services.activities import new_record, require_capacity
from engine.status import Action, ActivityStatus, RecordStatus, StatusError, transition

RETENTION = timedelta(days=7)


def next_cycle(activity: Activity, after: datetime) -> datetime:
    every = max(activity.schedule_every, 1)
    if activity.schedule == Schedule.MINUTES:
        return after + timedelta(minutes=every)
    if activity.schedule == Schedule.HOURLY:
        return after + timedelta(hours=every)
    if activity.schedule == Schedule.DAILY:
        return after + timedelta(days=every)
    month = after.month - 1 + every
    year, month = after.year + month // 12, month % 12 + 1
    return after.replace(year=year, month=month, day=min(after.day, calendar.monthrange(year, month)[1]))


def _enter_in_progress(session: Session, activity: Activity, action: Action, now: datetime) -> bool:
    try:
        next_status = transition(activity.status, action)
        require_capacity(session, activity)
    except (StatusError, Conflict):
        return False  # at the cap: stays Not Started and is tried again next tick
    activity.status = next_status
    new_record(session, activity, RecordTrigger.SCHEDULE)
    if activity.schedule != Schedule.ONCE:
        activity.next_run_at = next_cycle(activity, now)
    activity.updated_at = now
    session.add(activity)
    return True


def begin_due(session: Session, now: datetime) -> list[int]:
    """Not Started → In Progress at the start time."""
    due = session.exec(select(Activity).where(Activity.status == ActivityStatus.NOT_STARTED,
                                              col(Activity.start_time) <= now)).all()
    return [a.id for a in due if not (a.end_time and a.end_time <= now) and
            _enter_in_progress(session, a, Action.BEGIN, now)]


def end_due(session: Session, now: datetime) -> list[int]:
    """At the end time the activity is Finished: nobody new enters; customers inside finish the flow."""
    due = session.exec(select(Activity).where(
        col(Activity.status).in_([ActivityStatus.IN_PROGRESS, ActivityStatus.NOT_STARTED]),
        col(Activity.end_time) <= now)).all()
    for activity in due:
        activity.status = transition(activity.status, Action.COMPLETE)
        activity.updated_at = now
        session.add(activity)
        for record in session.exec(select(ExecutionRecord).where(
                ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS)):
            if _audience_round(session, record):
                continue  # its audience enters all at once when the round starts (it was due before the end)
            record.entry_closed = True
            session.add(record)
    return [a.id for a in due]


def _audience_round(session: Session, record: ExecutionRecord) -> bool:
    from engine.flow.graph import graph_for

    version = session.get(ActivityVersion, record.version_id)
    if version is None:
        return False
    graph = graph_for(version.id, version.flow)
    return graph.nodes.get(graph.trigger_id or "", {}).get("type") == "target_audience"


def cycles_due(session: Session, now: datetime) -> list[int]:
    """Periodic activities start their next round when it is due and before the end time (the time between
    rounds is In Progress). Run before `end_due`, so a cycle due before the end time is never skipped."""
    started: list[int] = []
    periodic = session.exec(select(Activity).where(Activity.status == ActivityStatus.IN_PROGRESS,
                                                   Activity.schedule != Schedule.ONCE)).all()
    for activity in periodic:
        if activity.next_run_at is None:
            last = session.exec(select(ExecutionRecord.started_at).where(
                ExecutionRecord.activity_id == activity.id).order_by(col(ExecutionRecord.started_at).desc())).first()
            activity.next_run_at = next_cycle(activity, last or now)
            session.add(activity)
        if activity.next_run_at > now or (activity.end_time and activity.next_run_at >= activity.end_time):
            continue
        if activity.max_runs is not None and activity.runs_used >= activity.max_runs:
            activity.status = transition(activity.status, Action.COMPLETE)
            session.add(activity)
            continue
        new_record(session, activity, RecordTrigger.SCHEDULE)
        # one period at a time: a scheduler that was down catches up cycle by cycle, skipping none
        activity.next_run_at = next_cycle(activity, activity.next_run_at)
        session.add(activity)
        started.append(activity.id)
    return started


def reruns_due(session: Session, now: datetime) -> list[int]:
    """Re-runs asked while a round was in progress start once no round of the activity is in progress."""
    created: list[int] = []
    for failed in session.exec(select(ExecutionRecord).where(col(ExecutionRecord.rerun_pending).is_(True))).all():
        busy = session.exec(select(ExecutionRecord.id).where(
            ExecutionRecord.activity_id == failed.activity_id,
            ExecutionRecord.status == RecordStatus.IN_PROGRESS)).first()
        activity = session.get(Activity, failed.activity_id)
        if busy or activity is None:
            continue
        try:
            next_status = transition(activity.status, Action.RERUN)
            if activity.status != ActivityStatus.IN_PROGRESS:
                require_capacity(session, activity)
        except (StatusError, Conflict):
            continue
        activity.status = next_status
        failed.rerun_pending = False
        session.add(failed)
        created.append(new_record(session, activity, RecordTrigger.RERUN, rerun_of=failed).id)
    return created


def purge_details(session: Session, now: datetime | None = None) -> int:
    """Per-customer details (route rows and send rows) are kept 7 days."""
    return purge(session, (now or clock.now()) - RETENTION)
