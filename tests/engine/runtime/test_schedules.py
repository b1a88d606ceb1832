"""Seed 002 on the real engine under a controllable clock: a daily activity runs its cycles, Pause stops them
(customers inside finish), Resume with a new start time starts them again from it — none skipped, none doubled."""

from datetime import timedelta

from engine.db import read_session
from engine.models import Activity, Schedule
from engine.services import activities as svc
from engine.status import ActivityStatus, RecordStatus
from tests.engine.runtime.test_lifecycle import act, rounds, settled, setup_activity, status

S = ActivityStatus


def _tick_times(engine, times: int, step: timedelta) -> None:
    """Several scheduler ticks, the clock moving `step` between them (a scheduler ticking through a period)."""
    for _ in range(times):
        engine.clock.advance(seconds=step.total_seconds())
        engine.scheduler.tick()


def test_daily_cycles_pause_and_resume_at_a_new_start_time(engine) -> None:
    now = engine.clock()
    start = now + timedelta(hours=1)
    activity_id, user_id, _ = setup_activity(n=20, schedule=Schedule.DAILY, start_time=start,
                                             end_time=now + timedelta(days=30))
    act(svc.publish, activity_id, user_id)
    assert status(activity_id) == S.NOT_STARTED

    # two cycles: at the start time and a day later (ticks in between start nothing)
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 1 and settled(engine, activity_id))
    _tick_times(engine, 4, timedelta(hours=5))  # 20 h later: the next cycle is not due yet
    assert len(rounds(activity_id)) == 1
    engine.clock.advance(hours=4)
    engine.run_until(lambda: len(rounds(activity_id)) == 2 and settled(engine, activity_id))
    with read_session() as session:
        assert session.get(Activity, activity_id).next_run_at == start + timedelta(days=2)

    # paused: three days of ticks start no round
    act(svc.pause, activity_id, user_id)
    assert status(activity_id) == S.PAUSED
    _tick_times(engine, 12, timedelta(hours=6))
    assert len(rounds(activity_id)) == 2 and status(activity_id) == S.PAUSED

    # resumed at a new start time: Not Started until then, then one cycle a day from it
    new_start = engine.clock() + timedelta(hours=2, minutes=30)
    act(svc.resume, activity_id, user_id, start_time=new_start)
    assert status(activity_id) == S.NOT_STARTED
    _tick_times(engine, 2, timedelta(hours=1))
    assert len(rounds(activity_id)) == 2
    engine.clock.advance(minutes=31)
    engine.run_until(lambda: len(rounds(activity_id)) == 3 and settled(engine, activity_id))
    assert status(activity_id) == S.IN_PROGRESS
    for _ in range(3):  # the scheduler ticking again at the same moment doubles nothing
        engine.scheduler.tick()
    assert len(rounds(activity_id)) == 3
    engine.clock.advance(days=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 4 and settled(engine, activity_id))
    engine.scheduler.tick()

    records = rounds(activity_id)
    assert [r.number for r in records] == [1, 2, 3, 4]
    assert all(r.status == RecordStatus.COMPLETED for r in records)
    assert all(r.trigger == "schedule" for r in records)
    # every round took the whole audience through the flow: none skipped
    assert [engine.store.counters(r.id)["g"]["entered"] for r in records] == [20, 20, 20, 20]
    started = [r.started_at for r in records]
    assert started[1] - started[0] == timedelta(days=1) and started[3] - started[2] == timedelta(days=1)
    with read_session() as session:
        assert session.get(Activity, activity_id).next_run_at == new_start + timedelta(days=2)


def test_pause_lets_the_customers_inside_finish_and_a_one_time_activity_stays_paused(engine) -> None:
    activity_id, user_id, _ = setup_activity(n=10, wait_hours=3)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: engine.store.due_waits(float("inf")) != [])  # the customers wait inside the flow
    act(svc.pause, activity_id, user_id)
    engine.clock.advance(hours=3, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id))
    [only] = rounds(activity_id)
    assert only.status == RecordStatus.COMPLETED
    assert engine.store.counters(only.id)["g"]["entered"] == 10  # all of them went on past the wait
    assert status(activity_id) == S.PAUSED  # its round drained; Resume runs it again

    act(svc.resume, activity_id, user_id, start_time=engine.clock() + timedelta(minutes=10))
    engine.clock.advance(minutes=10, seconds=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 2 and engine.store.due_waits(float("inf")) != [])
    assert status(activity_id) == S.IN_PROGRESS


def test_the_end_time_finishes_a_paused_activity(engine) -> None:
    now = engine.clock()
    activity_id, user_id, _ = setup_activity(schedule=Schedule.HOURLY, end_time=now + timedelta(hours=5))
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id))
    act(svc.pause, activity_id, user_id)
    engine.clock.advance(hours=5, seconds=1)
    engine.scheduler.tick()
    assert status(activity_id) == S.COMPLETED and len(rounds(activity_id)) == 1
