"""An activity entering In Progress, for the services (publish, start, re-run) and the runtime's scheduler
(start times, periodic cycles, queued re-runs) alike: the status machine (refused with a Conflict naming the
activity), the workspace's in-progress cap, and the execution record each round is."""

from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, func, select

from engine import clock
from engine.db import lock_workspace
from engine.errors import Conflict
from engine.models import Activity, ExecutionRecord, RecordTrigger, Workspace, row_id
from engine.shared import (
    reach_rows,  # noqa: F401  (session listener: every new round gets its Reach Task rows)
    scheduler_wake,  # noqa: F401  (session listener: a new round wakes the scheduler)
)
from engine.status import Action, ActivityStatus, RecordStatus, StatusError, transition


def requires_approval(activity: Activity) -> bool:
    """Seed 004: whether the activity's workspace lets activities go live only through an approved request."""
    session = object_session(activity)
    workspace = session.get(Workspace, activity.workspace_id) if session is not None else None
    return bool(workspace and workspace.approval_required)


def gate(activity: Activity) -> dict[str, Any]:
    """The machine's other coordinates for `activity`: its approval status and the workspace's setting."""
    return {"approval": activity.approval_status, "approval_required": requires_approval(activity)}


def transition_or_conflict(activity: Activity, action: Action, *, before_start: bool = False) -> ActivityStatus:
    try:
        return transition(activity.status, action, before_start=before_start, **gate(activity))
    except StatusError as err:
        raise Conflict(f"“{activity.name}”: {err}") from err


def require_capacity(session: Session, activity: Activity) -> None:
    """The workspace's in-progress cap (default 100), checked under the workspace lock."""
    lock_workspace(session, activity.workspace_id)
    workspace = session.get(Workspace, activity.workspace_id)
    cap = workspace.in_progress_cap if workspace else 100
    running = session.exec(select(func.count()).select_from(Activity).where(
        Activity.workspace_id == activity.workspace_id,
        Activity.status == ActivityStatus.IN_PROGRESS,
        Activity.id != activity.id,
    )).one()
    if running >= cap:
        raise Conflict(
            f"{cap} activities are already in progress in this workspace, the most it can run at once. "
            "Wait for one to finish, or stop one, before starting another."
        )


def new_record(session: Session, activity: Activity, trigger: RecordTrigger,
                rerun_of: ExecutionRecord | None = None) -> ExecutionRecord:
    last = session.exec(select(func.max(ExecutionRecord.number)).where(
        ExecutionRecord.activity_id == activity.id)).one() or 0
    if activity.live_version_id is None:
        raise ValueError(f"activity {activity.id} has no live version to run")
    record = ExecutionRecord(activity_id=row_id(activity), version_id=activity.live_version_id, number=last + 1,
                             trigger=trigger, rerun_of_id=rerun_of.id if rerun_of else None)
    if trigger not in (RecordTrigger.RERUN, RecordTrigger.REPUBLISH):
        activity.runs_used += 1
    session.add(record)
    session.flush()
    return record


def start_rerun(session: Session, activity: Activity, record: ExecutionRecord) -> ExecutionRecord:
    """The re-run round of `record` (now, or when its queue is due): the activity enters In Progress through
    the status machine (a cap slot when it was not In Progress: Conflict at the cap)."""
    next_status = transition_or_conflict(activity, Action.RERUN)
    if next_status == ActivityStatus.IN_PROGRESS and activity.status != ActivityStatus.IN_PROGRESS:
        require_capacity(session, activity)
    activity.status = next_status
    activity.updated_at = clock.now()
    record.rerun_pending, record.rerun_after = False, None
    rerun = new_record(session, activity, RecordTrigger.RERUN, rerun_of=record)
    session.add_all([activity, record])
    session.flush()
    return rerun


def live_rounds(session: Session, activity: Activity) -> list[ExecutionRecord]:
    """The activity's real rounds In Progress that no later round has taken over yet (test rounds aside)."""
    return list(session.exec(select(ExecutionRecord).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        col(ExecutionRecord.is_test).is_(False), col(ExecutionRecord.drained_by_id).is_(None))).all())


def superseded_rounds(session: Session, activity: Activity) -> list[ExecutionRecord]:
    """The rounds a round beginning at the start time continues: those of an earlier version that were running
    when the live version was published for a later start (still draining, or drained since), not yet taken
    over. A Resume (same version) continues nothing: it runs the activity again."""
    published = activity.published_at
    if published is None:
        return []
    return [r for r in session.exec(select(ExecutionRecord).where(
        ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.is_test).is_(False),
        col(ExecutionRecord.drained_by_id).is_(None), ExecutionRecord.version_id != activity.live_version_id,
        col(ExecutionRecord.started_at) <= published)).all()
        if r.status == RecordStatus.IN_PROGRESS or (r.ended_at is not None and r.ended_at >= published)]


def close_entry(session: Session, rounds: list[ExecutionRecord]) -> None:
    """Nobody new enters these rounds; the customers inside finish on the version they entered."""
    for record in rounds:
        record.entry_closed = True  # an audience round not yet started enters nobody: its successor does
        session.add(record)


def take_over(session: Session, rounds: list[ExecutionRecord], successor: ExecutionRecord) -> None:
    """`successor` continues `rounds`: they drain, and it never enters anyone inside them
    (engine/runtime/rounds.py `start_round`, engine/runtime/entered.py)."""
    close_entry(session, rounds)
    for record in rounds:
        record.drained_by_id = successor.id
        session.add(record)
