"""Time-driven transitions, run by the scheduler: start times, end times, periodic cycles, queued re-runs,
and retention. Each function is one transaction that reads state from the DB, so a scheduler killed and
restarted at any moment neither skips nor repeats anything."""

import calendar
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Conflict
from engine.flow.graph import graph_for
from engine.models import Activity, ActivityVersion, ExecutionRecord, RecordTrigger, Schedule, row_id
from engine.runtime.details import purge
from engine.shared import (
    reach_rows,  # noqa: F401  (session listener: the stored Reach Task rows)
    trigger_watch,  # noqa: F401  (session listener: trigger index follows activity status)
)
from engine.shared.in_progress import new_record, require_capacity, start_rerun, superseded_rounds, take_over
from engine.status import Action, ActivityStatus, RecordStatus, StatusError, allowed, transition

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
    # republished for a later start while rounds ran: the new round continues them, so nobody who entered them
    # enters again because of the new version (issue 12 part 6)
    draining = superseded_rounds(session, activity)
    record = new_record(session, activity, RecordTrigger.REPUBLISH if draining else RecordTrigger.SCHEDULE)
    take_over(session, draining, record)
    if activity.schedule != Schedule.ONCE:
        # cycles keep to the start time ("daily at 09:00"), not to the tick that noticed it
        start = activity.start_time if activity.start_time and activity.start_time <= now else now
        activity.next_run_at = next_cycle(activity, start)
    activity.updated_at = now
    session.add(activity)
    return True


def begin_due(session: Session, now: datetime) -> list[int]:
    """Not Started → In Progress at the start time."""
    due = session.exec(select(Activity).where(Activity.status == ActivityStatus.NOT_STARTED,
                                              col(Activity.start_time) <= now)).all()
    return [row_id(a) for a in due if not (a.end_time and a.end_time <= now) and
            _enter_in_progress(session, a, Action.BEGIN, now)]


def end_due(session: Session, now: datetime) -> list[int]:
    """At the end time the activity is Finished (also a Paused one): nobody new enters; customers inside finish
    the flow. A re-run ignores the end time (seed 000): while one runs the activity stays In Progress, and the
    round's end (or the next tick, for a periodic activity) finishes it."""
    due = [a for a in session.exec(select(Activity).where(
        col(Activity.status).in_([s for s in ActivityStatus if allowed(s, Action.END_TIME)]),
        col(Activity.end_time) <= now)).all() if not _rerun_running(session, a)]
    for activity in due:
        activity.status = transition(activity.status, Action.END_TIME)
        activity.updated_at = now
        session.add(activity)
        for record in session.exec(select(ExecutionRecord).where(
                ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS)):
            if _audience_round(session, record):
                continue  # its audience enters all at once when the round starts (it was due before the end)
            record.entry_closed = True
            session.add(record)
    return [row_id(a) for a in due]


def _rerun_running(session: Session, activity: Activity) -> bool:
    return session.exec(select(ExecutionRecord.id).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        ExecutionRecord.trigger == RecordTrigger.RERUN)).first() is not None


def _audience_round(session: Session, record: ExecutionRecord) -> bool:
    version = session.get(ActivityVersion, record.version_id)
    if version is None:
        return False
    graph = graph_for(record.version_id, version.flow)
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
                ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.is_test).is_(False)
            ).order_by(col(ExecutionRecord.started_at).desc())).first()
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
        started.append(row_id(activity))
    return started


def reruns_due(session: Session, now: datetime) -> list[int]:
    """Queued re-runs start once the rounds they were queued behind (numbered up to `rerun_after`) have ended,
    whatever the activity became meanwhile (Completed, Abnormal End, end time passed: seed 000, a re-run ignores
    the window and the run count). One per activity per tick: a second queued one then waits for this one. An
    activity that is not In Progress needs a cap slot: at the cap the re-run stays queued and starts when a slot
    frees (tried every tick)."""
    created: list[int] = []
    started: dict[int, int] = {}  # activity → number of the re-run started for it in this tick
    queued = session.exec(select(ExecutionRecord).where(col(ExecutionRecord.rerun_pending).is_(True))
                          .order_by(col(ExecutionRecord.activity_id), col(ExecutionRecord.number))).all()
    for failed in queued:
        activity = session.get(Activity, failed.activity_id)
        if activity is None:
            continue
        if failed.activity_id in started:
            failed.rerun_after = max(failed.rerun_after or 0, started[failed.activity_id])
            session.add(failed)
            continue
        if _blocked(session, failed):
            continue
        try:
            rerun = start_rerun(session, activity, failed)  # checks (status machine, cap) before it writes
        except (StatusError, Conflict):
            continue
        created.append(row_id(rerun))
        started[failed.activity_id] = rerun.number
    return created


def _blocked(session: Session, failed: ExecutionRecord) -> bool:
    """A round the re-run was queued behind is still in progress (rounds begun after the request, such as the
    next periodic cycles, never hold it). A queue from before `rerun_after` existed waits for every round."""
    stmt = select(ExecutionRecord.id).where(ExecutionRecord.activity_id == failed.activity_id,
                                            ExecutionRecord.status == RecordStatus.IN_PROGRESS)
    if failed.rerun_after is not None:
        stmt = stmt.where(ExecutionRecord.number <= failed.rerun_after)
    return session.exec(stmt).first() is not None


def purge_details(session: Session, now: datetime | None = None) -> int:
    """Per-customer details (route rows and send rows) are kept 7 days."""
    return purge(session, (now or clock.now()) - RETENTION)
