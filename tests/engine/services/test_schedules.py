"""Seed 002 through the services: Pause, Resume (a new start time), Modify and Delete in every status, written
out here independently of engine/status.py's table, and the "start time later than now" rule."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Activity, ExecutionRecord, Role, Schedule, Workspace
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.listing import ListQuery, list_activities, schedule_label
from engine.status import ActivityStatus, RecordStatus
from tests import factories as f
from tests.engine.services.test_activities import snapshot

S = ActivityStatus

# status -> (allowed?, status after) for each seed-002 action, from the seed's own sentences
PAUSE = {S.IN_PROGRESS: S.PAUSED}  # "You can only pause marketing activities that are in the In-progress state."
RESUME = {S.PAUSED: S.NOT_STARTED}  # "After the activity is paused, you need to reset the start time."
MODIFY = {S.NOT_STARTED: S.NOT_STARTED, S.PAUSED: S.PAUSED}  # "only ... in the Pending or Suspended state"
DELETABLE = {S.DRAFT, S.NOT_STARTED, S.PAUSED, S.STOPPED, S.COMPLETED, S.ABNORMAL_END,
             S.TESTING}  # "not ... In-progress" (Testing: seed 004)


@pytest.fixture
def marketer(session: Session):
    return f.user(session, f.workspace(session), Role.MARKETER)


def _input(**kw) -> ActivityInput:
    return ActivityInput(name="Daily digest", schedule=Schedule.DAILY, start_time=f.later(2), end_time=f.later(48),
                         **kw)


@pytest.mark.parametrize("status", list(S))
def test_pause_in_every_status(session: Session, marketer, status) -> None:
    activity = f.activity(session, marketer, status=status)
    before = snapshot(session)
    if status not in PAUSE:
        with pytest.raises(Conflict, match="Only an In Progress activity can be paused"):
            svc.pause(session=session, actor=marketer, activity_id=activity.id)
        assert snapshot(session) == before
        return
    svc.pause(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == PAUSE[status]


@pytest.mark.parametrize("status", list(S))
def test_resume_in_every_status(session: Session, marketer, status) -> None:
    activity = f.activity(session, marketer, status=status)
    before = snapshot(session)
    start = f.later(3)
    if status not in RESUME:
        with pytest.raises(Conflict, match="Only a Paused activity can be resumed"):
            svc.resume(session=session, actor=marketer, activity_id=activity.id, start_time=start)
        assert snapshot(session) == before
        return
    svc.resume(session=session, actor=marketer, activity_id=activity.id, start_time=start)
    assert (activity.status, activity.start_time) == (RESUME[status], start)


@pytest.mark.parametrize("status", list(S))
def test_modify_in_every_status(session: Session, marketer, status) -> None:
    activity = f.activity(session, marketer, status=status, start_time=f.later(1))
    before = snapshot(session)
    data = _input(description="every morning")
    if status not in MODIFY:
        with pytest.raises(Conflict, match="Only a Not Started or Paused activity can be modified"):
            svc.modify(session=session, actor=marketer, activity_id=activity.id, data=data)
        assert snapshot(session) == before
        return
    svc.modify(session=session, actor=marketer, activity_id=activity.id, data=data)
    assert activity.status == MODIFY[status]
    assert (activity.name, activity.description, activity.schedule, activity.start_time, activity.end_time) == (
        "Daily digest", "every morning", Schedule.DAILY, data.start_time, data.end_time)


@pytest.mark.parametrize("status", list(S))
def test_delete_never_while_in_progress(session: Session, marketer, status) -> None:
    activity = f.activity(session, marketer, status=status)
    before = snapshot(session)
    if status not in DELETABLE:
        with pytest.raises(Conflict, match="In Progress activity cannot be deleted"):
            svc.delete_activity(session=session, actor=marketer, activity_id=activity.id)
        assert snapshot(session) == before
        return
    svc.delete_activity(session=session, actor=marketer, activity_id=activity.id)
    assert session.get(Activity, activity.id) is None


def test_pause_closes_entry_and_withdraws_queued_reruns(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    record = session.exec(select(ExecutionRecord)).one()
    record.rerun_pending, record.rerun_after = True, record.number
    session.add(record)
    svc.pause(session=session, actor=marketer, activity_id=activity.id)
    session.refresh(record)
    # the round keeps its customers (In Progress, draining) but nobody new enters; no re-run starts by itself
    assert (record.status, record.entry_closed, record.rerun_pending) == (RecordStatus.IN_PROGRESS, True, False)
    assert activity.status == S.PAUSED


@pytest.mark.parametrize("call", ["create", "modify", "resume", "save_draft"])
def test_a_start_time_in_the_past_is_refused(session: Session, marketer, call) -> None:
    past = clock.now() - timedelta(minutes=1)
    status = {"create": S.DRAFT, "modify": S.NOT_STARTED, "resume": S.PAUSED, "save_draft": S.DRAFT}[call]
    activity = f.activity(session, marketer, status=status, start_time=f.later(1))
    before = snapshot(session)
    with pytest.raises(Invalid, match="The start time must be later than now"), session.begin_nested():
        if call == "create":
            svc.create_activity(session=session, actor=marketer, data=ActivityInput(name="x", start_time=past))
        elif call == "modify":
            svc.modify(session=session, actor=marketer, activity_id=activity.id,
                       data=ActivityInput(name="x", start_time=past))
        elif call == "resume":
            svc.resume(session=session, actor=marketer, activity_id=activity.id, start_time=past)
        else:
            svc.save_draft(session=session, actor=marketer, activity_id=activity.id,
                           data=ActivityInput(name="x", start_time=past))
    assert snapshot(session) == before


def test_a_start_time_kept_unchanged_is_not_a_request(session: Session, marketer) -> None:
    """An activity that began yesterday is saved again with the start time it has: not refused."""
    activity = f.activity(session, marketer, status=S.IN_PROGRESS, start_time=clock.now() - timedelta(days=1))
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, data=data.model_copy(
        update={"description": "edited"}))
    assert activity.description == "edited"


def test_resume_checks_the_end_time_and_publish_of_a_paused_one_needs_a_new_start(session: Session,
                                                                                    marketer) -> None:
    activity = f.activity(session, marketer, status=S.PAUSED, end_time=f.later(2))
    before = snapshot(session)
    with pytest.raises(Invalid, match="end time must be later than the start time"):
        svc.resume(session=session, actor=marketer, activity_id=activity.id, start_time=f.later(3))
    with pytest.raises(Invalid, match="is paused: set a new start time"):
        svc.publish(session=session, actor=marketer, activity_id=activity.id)
    assert snapshot(session) == before
    svc.resume(session=session, actor=marketer, activity_id=activity.id, start_time=f.later(3),
               end_time=f.later(30))
    assert activity.status == S.NOT_STARTED and activity.end_time is not None


def test_modify_keeps_a_not_started_activity_startable(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.NOT_STARTED, start_time=f.later(1))
    with pytest.raises(Invalid, match="needs a start time"):
        svc.modify(session=session, actor=marketer, activity_id=activity.id, data=ActivityInput(name="x"))


def test_copy_drops_times_already_past(session: Session, marketer) -> None:
    source = f.activity(session, marketer, status=S.COMPLETED, start_time=clock.now() - timedelta(days=2),
                        end_time=clock.now() - timedelta(days=1))
    copy = svc.copy_activity(session=session, actor=marketer, activity_id=source.id)
    assert (copy.start_time, copy.end_time) == (None, None)  # the copy starts on publish, not "in the past"


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.PAUSED, S.NOT_STARTED])
def test_a_manager_reads_only(session: Session, marketer, status) -> None:
    manager = f.user(session, session.get(Workspace, marketer.workspace_id), Role.MANAGER)
    activity = f.activity(session, marketer, status=status, public=True, start_time=f.later(1))
    kw = {"session": session, "actor": manager, "activity_id": activity.id}
    call = {S.IN_PROGRESS: lambda: svc.pause(**kw), S.PAUSED: lambda: svc.resume(**kw, start_time=f.later(2)),
            S.NOT_STARTED: lambda: svc.modify(**kw, data=_input())}[status]
    before = snapshot(session)
    with pytest.raises(Forbidden):
        call()
    assert snapshot(session) == before


@pytest.mark.parametrize(("schedule", "every", "label"), [
    (Schedule.ONCE, 1, "Once"), (Schedule.MINUTES, 15, "Every 15 minutes"), (Schedule.MINUTES, 1, "Every 1 minute"),
    (Schedule.HOURLY, 1, "Hourly"), (Schedule.HOURLY, 2, "Every 2 hours"), (Schedule.DAILY, 1, "Daily"),
    (Schedule.MONTHLY, 1, "Monthly"), (Schedule.MONTHLY, 3, "Every 3 months"),
])
def test_schedule_labels(schedule, every, label) -> None:
    assert schedule_label(schedule, every) == label


def test_the_list_shows_the_schedule_and_the_next_run(session: Session, marketer) -> None:
    start, end = f.later(2), f.later(100)
    waiting = svc.create_activity(session=session, actor=marketer, data=ActivityInput(
        name="Waits", schedule=Schedule.DAILY, start_time=start, end_time=end))
    waiting.status = S.NOT_STARTED
    running = f.activity(session, marketer, status=S.IN_PROGRESS, name="Runs", end_time=end)
    running.schedule, running.schedule_every, running.next_run_at = Schedule.HOURLY, 2, f.later(1)
    last = f.activity(session, marketer, status=S.IN_PROGRESS, name="Last cycle done", end_time=f.later(1))
    last.schedule, last.next_run_at = Schedule.HOURLY, f.later(1)  # the next cycle would be at the end: none
    paused = f.activity(session, marketer, status=S.PAUSED, name="Paused")
    paused.schedule = Schedule.DAILY
    session.add_all([waiting, running, last, paused])
    session.flush()
    page = list_activities(session=session, actor=marketer, query=ListQuery(page_size=50))
    got = {r.name: (r.schedule, r.next_run) for r in page.rows}
    assert got == {"Waits": ("Daily", start), "Runs": ("Every 2 hours", running.next_run_at),
                   "Last cycle done": ("Hourly", None), "Paused": ("Daily", None)}
