"""Every activity status × every user action, through the services, against one matrix written out here by hand
(from seeds 000–002 and the README's rules, not from engine/status.py): what each call leads to, or that it is
refused and changes nothing. A row is a status, a column an action."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from engine.errors import Conflict, Invalid
from engine.models import Activity, Role, Schedule
from engine.services import activities as svc
from engine.services import processes
from engine.services.activities import ActivityInput
from engine.status import ActivityStatus
from tests import factories as f
from tests.engine.services.test_activities import snapshot

S = ActivityStatus
NO = "refused"  # the service refuses, the database is unchanged
GONE = "deleted"
COPIED = "copied"  # the source is unchanged and a new private Draft exists
SAVED = "saved"  # saved as a process (its published version); the activity is unchanged

ACTIONS = ("publish", "publish_later", "save_draft", "schedule", "pause", "resume", "modify", "stop", "start",
           "delete", "copy", "move", "set_public", "save_process")

# fmt: off
MATRIX: dict[ActivityStatus, dict[str, Any]] = {
    #              publish        publish_later   save_draft     schedule     pause     resume         modify
    #              stop        start          delete  copy    move           set_public     save_process
    # (a Draft has no published version yet: it cannot be saved as a process)
    S.DRAFT:       dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT, schedule=S.DRAFT,
                        pause=NO, resume=NO, modify=NO, stop=NO, start=NO, delete=GONE, copy=COPIED,
                        move=S.DRAFT, set_public=S.DRAFT,
                        save_process=NO),
    # seed 004's Testing (the approval setting off here; its fixture has a published version): a schedule
    # change is an edit, which makes it a Draft again
    S.TESTING:     dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT, schedule=S.DRAFT,
                        pause=NO, resume=NO, modify=NO, stop=NO, start=NO, delete=GONE, copy=COPIED,
                        move=S.TESTING, set_public=S.TESTING,
                        save_process=SAVED),
    S.NOT_STARTED: dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT,
                        schedule=S.DRAFT, pause=NO, resume=NO, modify=S.NOT_STARTED, stop=S.STOPPED, start=NO,
                        delete=GONE, copy=COPIED, move=S.NOT_STARTED, set_public=S.NOT_STARTED,
                        save_process=SAVED),
    S.IN_PROGRESS: dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.IN_PROGRESS,
                        schedule=NO, pause=S.PAUSED, resume=NO, modify=NO, stop=S.STOPPED, start=NO, delete=NO,
                        copy=COPIED, move=S.IN_PROGRESS, set_public=S.IN_PROGRESS,
                        save_process=SAVED),
    # a Paused activity restarts only with a new start time later than now (Resume, or Publish with one)
    S.PAUSED:      dict(publish=NO, publish_later=S.NOT_STARTED, save_draft=S.PAUSED, schedule=S.PAUSED,
                        pause=NO, resume=S.NOT_STARTED, modify=S.PAUSED, stop=S.STOPPED, start=NO, delete=GONE,
                        copy=COPIED, move=S.PAUSED, set_public=S.PAUSED,
                        save_process=SAVED),
    S.STOPPED:     dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT, schedule=NO,
                        pause=NO, resume=NO, modify=NO, stop=NO, start=S.IN_PROGRESS, delete=GONE, copy=COPIED,
                        move=S.STOPPED, set_public=S.STOPPED,
                        save_process=SAVED),
    S.COMPLETED:   dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT, schedule=NO,
                        pause=NO, resume=NO, modify=NO, stop=NO, start=NO, delete=GONE, copy=COPIED,
                        move=S.COMPLETED, set_public=S.COMPLETED,
                        save_process=SAVED),
    S.ABNORMAL_END: dict(publish=S.IN_PROGRESS, publish_later=S.NOT_STARTED, save_draft=S.DRAFT, schedule=NO,
                         pause=NO, resume=NO, modify=NO, stop=NO, start=NO, delete=GONE, copy=COPIED,
                         move=S.ABNORMAL_END, set_public=S.ABNORMAL_END,
                        save_process=SAVED),
}
# fmt: on


@pytest.fixture
def marketer(session: Session):
    return f.user(session, f.workspace(session), Role.MARKETER)


def _calls(session: Session, actor, activity: Activity) -> dict[str, Callable[[], object]]:
    kw: dict[str, Any] = {"session": session, "actor": actor, "activity_id": activity.id}
    current = svc.activity_input(session=session, actor=actor, activity_id=activity.id)
    later = current.model_copy(update={"start_time": f.later(5)})
    daily = current.model_copy(update={"schedule": Schedule.DAILY})
    return {
        "publish": lambda: svc.publish(**kw),
        # a later start time: the activity waits for it as Not Started (also one In Progress)
        "publish_later": lambda: svc.publish(**kw, data=later),
        "save_draft": lambda: svc.save_draft(**kw, data=current.model_copy(update={"description": "edited"})),
        "schedule": lambda: svc.save_draft(**kw, data=daily),  # the canvas's pencil changing the schedule
        "pause": lambda: svc.pause(**kw),
        "resume": lambda: svc.resume(**kw, start_time=f.later(3)),
        "modify": lambda: svc.modify(**kw, data=later.model_copy(update={"description": "modified"})),
        "stop": lambda: svc.stop(**kw),
        "start": lambda: svc.start(**kw),
        "delete": lambda: svc.delete_activity(**kw),
        "copy": lambda: svc.copy_activity(**kw),
        "move": lambda: svc.move(**kw, group_id=None),
        "set_public": lambda: svc.set_public(**kw, public=True),
        "save_process": lambda: processes.save_process(**kw, name=f"Process of {activity.id}"),
    }


def test_the_matrix_covers_every_status_and_action() -> None:
    assert set(MATRIX) == set(S)
    assert all(set(row) == set(ACTIONS) for row in MATRIX.values())


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", list(S))
def test_status_by_action(session: Session, marketer, status: ActivityStatus, action: str) -> None:
    activity = f.activity(session, marketer, status=status)
    expected = MATRIX[status][action]
    call = _calls(session, marketer, activity)[action]
    before = snapshot(session)
    count = len(before)
    if expected == NO:
        with pytest.raises((Conflict, Invalid)), session.begin_nested():
            call()
        assert snapshot(session) == before
        return
    call()
    session.flush()
    if expected == GONE:
        assert session.get(Activity, activity.id) is None
        return
    session.refresh(activity)
    if expected == SAVED:
        assert activity.status == status
        assert processes.list_processes(session=session, actor=marketer)[0].source.endswith("· V1")
        return
    if expected == COPIED:
        assert activity.status == status
        assert len(snapshot(session)) > count
        return
    assert activity.status == expected
    if action == "schedule":
        assert activity.schedule == Schedule.DAILY


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.STOPPED, S.COMPLETED, S.ABNORMAL_END])
def test_the_pencil_dialog_gets_the_status_machines_why_not(session: Session, marketer, status) -> None:
    activity = f.activity(session, marketer, status=status)
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    with pytest.raises(Conflict, match=r"schedule can be changed only while .* \(status: "):
        svc.check_info(session=session, actor=marketer, activity_id=activity.id,
                       data=data.model_copy(update={"schedule": Schedule.HOURLY, "schedule_every": 2}))
    # anything else of the dialog (same schedule) is fine
    svc.check_info(session=session, actor=marketer, activity_id=activity.id,
                   data=data.model_copy(update={"name": "Renamed"}))


def test_a_new_interval_is_a_schedule_change(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.IN_PROGRESS)
    activity.schedule, activity.schedule_every = Schedule.MINUTES, 15
    data = ActivityInput(name=activity.name, schedule=Schedule.MINUTES, schedule_every=30)
    with pytest.raises(Conflict, match="schedule can be changed only"):
        svc.check_info(session=session, actor=marketer, activity_id=activity.id, data=data)
    svc.check_info(session=session, actor=marketer, activity_id=activity.id,
                   data=data.model_copy(update={"schedule_every": 15}))
