"""A Re-run asked while a round is in progress is never lost (issue 12, part 5): it starts when the rounds it was
queued behind have ended, whatever happened meanwhile — the round completed a one-time activity, the end time
passed, later periodic cycles are still running, the workspace was at its cap — and a Stop of the activity
withdraws it visibly (its Re-run button is enabled again). Real workers on Redis, the scheduler, a test clock;
the drawer's Re-run button state is read from the service at every step."""

from datetime import timedelta

from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import Activity, ExecutionRecord, Schedule, User, Workspace
from engine.services import activities as svc
from engine.services import records
from engine.services.activities import ActivityInput
from engine.status import ActivityStatus, RecordStatus
from tests.engine.runtime.test_lifecycle import _set_rule, act, rounds, settled, status, tag_flow
from tests.engine.runtime.test_lifecycle import setup_activity as _setup

S = ActivityStatus
BROKEN = {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]}


def rerun_button(user_id: int, activity_id: int, record_id: int) -> str:
    """The drawer's Re-run refusal for the record ("" = enabled)."""
    with read_session() as session:
        rows = records.list_records(session=session, actor=session.get(User, user_id), activity_id=activity_id)
    row = next(r for r in rows if r.id == record_id)
    assert row.can_rerun is (row.rerun_refusal == "")
    return row.rerun_refusal


def ask_rerun(user_id: int, record_id: int) -> ExecutionRecord:
    with write_session() as session:
        return records.rerun_record(session=session, actor=session.get(User, user_id), record_id=record_id)


def failed_then_running(engine, **fields) -> tuple[int, int, ExecutionRecord]:
    """Round 1 fails to obtain crowd data; the audience is fixed and the activity published again: round 2 is In
    Progress (its customers wait an hour, or `wait_hours`). Returns (activity, user, failed round 1)."""
    activity_id, user_id, audience_id = _setup(wait_hours=fields.pop("wait_hours", 1), **fields)
    _set_rule(audience_id, "rule", BROKEN)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    failed = rounds(activity_id)[0]
    assert failed.failure_kind == "crowd_data" and status(activity_id) == S.ABNORMAL_END
    assert rerun_button(user_id, activity_id, failed.id) == ""  # nothing runs: Re-run is enabled
    _set_rule(audience_id, "static", {})
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: any(d["record"] == rounds(activity_id)[-1].id
                                 for _, d in engine.store.due_waits(float("inf"))))
    return activity_id, user_id, failed


def queue(engine, user_id: int, activity_id: int, failed: ExecutionRecord) -> None:
    queued = ask_rerun(user_id, failed.id)
    assert queued.id == failed.id and queued.rerun_pending and queued.rerun_after == 2
    assert rerun_button(user_id, activity_id, failed.id).startswith("Already queued: it re-runs when round #2")
    assert engine.scheduler.tick()["reruns"] == []  # not while round 2 runs
    assert [r.number for r in rounds(activity_id)] == [1, 2]


def the_rerun(activity_id: int) -> ExecutionRecord:
    return next(r for r in rounds(activity_id) if r.trigger == "rerun")


def parked(engine, record_id: int) -> bool:
    return any(d["record"] == record_id for _, d in engine.store.due_waits(float("inf")))


def test_queued_then_the_round_completes_the_one_time_activity(engine) -> None:
    activity_id, user_id, failed = failed_then_running(engine, max_runs=1)
    queue(engine, user_id, activity_id, failed)
    engine.clock.advance(hours=1, seconds=1)  # round 2 completes the one-time activity...
    engine.run_until(lambda: any(r.trigger == "rerun" for r in rounds(activity_id)))  # ...and the re-run starts
    second, rerun = rounds(activity_id)[1], the_rerun(activity_id)
    assert second.status == RecordStatus.COMPLETED and rerun.started_at >= second.ended_at
    assert rerun.rerun_of_id == failed.id and status(activity_id) == S.IN_PROGRESS
    assert rerun_button(user_id, activity_id, failed.id) == f"Already re-run as round #{rerun.number}."
    engine.run_until(lambda: parked(engine, rerun.id))
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id))
    assert the_rerun(activity_id).status == RecordStatus.COMPLETED and status(activity_id) == S.COMPLETED
    assert engine.store.counters(rerun.id)["g"]["entered"] == 30
    with read_session() as session:
        assert session.get(Activity, activity_id).runs_used == 2  # publish, publish; the re-run is not counted


def test_queued_then_the_end_time_passes(engine) -> None:
    end = engine.clock() + timedelta(hours=2)
    activity_id, user_id, failed = failed_then_running(engine, wait_hours=5, end_time=end)
    queue(engine, user_id, activity_id, failed)
    engine.clock.advance(hours=2, seconds=1)
    engine.scheduler.tick()
    assert status(activity_id) == S.COMPLETED  # Finished at the end time; round 2's customers finish the flow
    assert rerun_button(user_id, activity_id, failed.id).startswith("Already queued")  # still queued, not lost
    engine.clock.advance(hours=3)
    engine.run_until(lambda: any(r.trigger == "rerun" for r in rounds(activity_id)))
    rerun = the_rerun(activity_id)
    assert rounds(activity_id)[1].status == RecordStatus.COMPLETED
    engine.run_until(lambda: parked(engine, rerun.id))
    engine.scheduler.tick()
    assert status(activity_id) == S.IN_PROGRESS  # the re-run ignores the end time: In Progress while it runs
    engine.clock.advance(hours=5, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id))
    assert the_rerun(activity_id).status == RecordStatus.COMPLETED and status(activity_id) == S.COMPLETED
    assert engine.store.counters(rerun.id)["g"]["entered"] == 30


def test_queued_on_a_periodic_activity_is_not_held_by_later_cycles(engine) -> None:
    activity_id, user_id, failed = failed_then_running(engine, schedule=Schedule.HOURLY, wait_hours=3)
    queue(engine, user_id, activity_id, failed)
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 3)  # the next cycle began while round 2 waits
    assert rerun_button(user_id, activity_id, failed.id).startswith("Already queued")
    engine.clock.advance(hours=2)  # round 2's wait is over; cycles 3 and 4 still wait
    engine.run_until(lambda: any(r.trigger == "rerun" for r in rounds(activity_id)))
    by_number = {r.number: r for r in rounds(activity_id)}
    rerun = the_rerun(activity_id)
    assert by_number[2].status == RecordStatus.COMPLETED and by_number[3].status == RecordStatus.IN_PROGRESS
    assert rerun.started_at >= by_number[2].ended_at and status(activity_id) == S.IN_PROGRESS
    assert rerun_button(user_id, activity_id, failed.id) == f"Already re-run as round #{rerun.number}."


def test_stopping_the_running_round_of_a_periodic_activity_starts_the_queued_rerun(engine) -> None:
    activity_id, user_id, failed = failed_then_running(engine, schedule=Schedule.DAILY)
    queue(engine, user_id, activity_id, failed)
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, user_id), record_id=rounds(activity_id)[1].id)
    assert status(activity_id) == S.IN_PROGRESS  # periodic: stopping one round keeps the activity
    assert engine.scheduler.tick()["reruns"] == [the_rerun(activity_id).id]
    engine.run_until(lambda: parked(engine, the_rerun(activity_id).id))
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: the_rerun(activity_id).status == RecordStatus.COMPLETED)


def test_stopping_the_activity_withdraws_the_queued_rerun_and_the_button_comes_back(engine) -> None:
    activity_id, user_id, failed = failed_then_running(engine)
    queue(engine, user_id, activity_id, failed)
    act(svc.stop, activity_id, user_id)
    assert status(activity_id) == S.STOPPED and rounds(activity_id)[1].status == RecordStatus.STOPPED
    assert engine.scheduler.tick()["reruns"] == [] and len(rounds(activity_id)) == 2  # the Stop holds
    assert not rounds(activity_id)[0].rerun_pending and rerun_button(user_id, activity_id, failed.id) == ""
    rerun = ask_rerun(user_id, failed.id)  # asked again after the Stop: nothing runs, so at once
    assert rerun.trigger == "rerun" and status(activity_id) == S.IN_PROGRESS
    engine.run_until(lambda: parked(engine, rerun.id))
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id) and len(rounds(activity_id)) == 3)
    assert the_rerun(activity_id).status == RecordStatus.COMPLETED and status(activity_id) == S.COMPLETED


def test_at_the_cap_the_queued_rerun_waits_for_a_free_slot(engine) -> None:
    activity_id, user_id, failed = failed_then_running(engine)
    with write_session() as session:  # another activity of the workspace runs; the cap is 1
        owner = session.get(User, user_id)
        mine = session.get(Activity, activity_id)
        other = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Other"),
                                    flow=tag_flow(_audience_of(session, mine), wait_hours=10))
        svc.publish(session=session, actor=owner, activity_id=other.id)
        other_id = other.id
        workspace = session.get(Workspace, owner.workspace_id)
        workspace.in_progress_cap = 1
        session.add(workspace)
    queue(engine, user_id, activity_id, failed)
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: rounds(activity_id)[1].status == RecordStatus.COMPLETED)
    assert status(activity_id) == S.COMPLETED and status(other_id) == S.IN_PROGRESS
    for _ in range(3):  # at the cap: every tick tries, none starts it, none drops it
        assert engine.scheduler.tick()["reruns"] == []
        assert rerun_button(user_id, activity_id, failed.id).startswith("Already queued")
    act(svc.stop, other_id, user_id)  # a slot frees
    assert engine.scheduler.tick()["reruns"] == [the_rerun(activity_id).id]
    assert status(activity_id) == S.IN_PROGRESS


def _audience_of(session, activity: Activity) -> int:
    from engine.models import ActivityVersion

    version = session.exec(select(ActivityVersion).where(ActivityVersion.id == activity.live_version_id)).one()
    return int(version.flow["nodes"][0]["config"]["audience_id"])
