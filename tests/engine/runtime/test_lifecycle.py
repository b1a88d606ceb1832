"""Activity status follows time and runs: start and end times, periodic cycles, stop / restart / re-run,
crowd-data failures and component failures — on the real engine under a controllable clock."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import Activity, Audience, ExecutionRecord, Role, Schedule, User
from engine.runtime.lifecycle import next_cycle
from engine.services import activities as svc
from engine.services import records
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from engine.status import ActivityStatus, RecordStatus
from tests import factories as f

S = ActivityStatus


def tag_flow(audience_id: int, *, wait_hours: int = 0) -> dict:
    nodes = [{"id": "t", "type": "target_audience", "config": {"audience_id": audience_id}},
             {"id": "g", "type": "tag", "config": {"tag": "seen", "value": "yes"}},
             {"id": "e", "type": "end", "config": {}}]
    edges = [{"source": "t", "branch": "out", "target": "g"}, {"source": "g", "branch": "out", "target": "e"}]
    if wait_hours:
        nodes.append({"id": "w", "type": "wait_until", "config": {"mode": "period", "hours": wait_hours}})
        edges = [{"source": "t", "branch": "out", "target": "w"}, {"source": "w", "branch": "out", "target": "g"},
                 edges[1]]
    return {"nodes": nodes, "edges": edges}


def setup_activity(*, n: int = 30, schedule: Schedule = Schedule.ONCE, wait_hours: int = 0,
                   **fields) -> tuple[int, int, int]:
    """A marketer's Draft over an audience of n customers; returns (activity id, user id, audience id)."""
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = upsert_customers(session=session, workspace_id=ws.id,
                               rows=[{"qaid": f"L{i}", "name": f"L{i}"} for i in range(n)]).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="A",
                                          customer_ids=list(ids.values()))
        activity = svc.create_activity(session=session, actor=owner, flow=tag_flow(audience.id, wait_hours=wait_hours),
                                       data=ActivityInput(name="Lifecycle", schedule=schedule, **fields))
        return activity.id, owner.id, audience.id


def act(fn, activity_id: int, user_id: int, **kw):
    with write_session() as session:
        return fn(session=session, actor=session.get(User, user_id), activity_id=activity_id, **kw)


def status(activity_id: int) -> ActivityStatus:
    with read_session() as session:
        return session.get(Activity, activity_id).status


def rounds(activity_id: int) -> list[ExecutionRecord]:
    with read_session() as session:
        return list(session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)
                                 .order_by(ExecutionRecord.number)))


def settled(engine, activity_id: int) -> bool:
    return all(r.status != RecordStatus.IN_PROGRESS for r in rounds(activity_id))


def test_not_started_begins_at_its_start_time_and_a_one_time_flow_completes(engine) -> None:
    now = engine.clock()
    activity_id, user_id, _ = setup_activity(start_time=now + timedelta(hours=1), end_time=now + timedelta(days=1))
    act(svc.publish, activity_id, user_id)
    engine.scheduler.tick()
    assert status(activity_id) == S.NOT_STARTED and rounds(activity_id) == []
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    [only] = rounds(activity_id)
    assert (only.trigger, only.status) == ("schedule", RecordStatus.COMPLETED)
    assert status(activity_id) == S.COMPLETED


def test_end_time_finishes_the_activity(engine) -> None:
    now = engine.clock()
    activity_id, user_id, _ = setup_activity(wait_hours=5, end_time=now + timedelta(hours=2))
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: engine.store.due_waits(float("inf")) != [])
    engine.clock.advance(hours=2, seconds=1)
    engine.scheduler.tick()
    assert status(activity_id) == S.COMPLETED  # Finished at the end time; nobody new enters
    assert rounds(activity_id)[0].status == RecordStatus.IN_PROGRESS  # those inside finish the flow
    engine.clock.advance(hours=3)
    engine.run_until(lambda: settled(engine, activity_id))
    assert rounds(activity_id)[0].status == RecordStatus.COMPLETED


@pytest.mark.parametrize(("schedule", "every", "step"), [
    (Schedule.MINUTES, 15, timedelta(minutes=15)), (Schedule.HOURLY, 1, timedelta(hours=1)),
    (Schedule.DAILY, 1, timedelta(days=1)),
])
def test_periodic_cycles_and_stopping_one_round_keeps_the_next(engine, schedule, every, step) -> None:
    now = engine.clock()
    activity_id, user_id, _ = setup_activity(schedule=schedule, schedule_every=every, end_time=now + step * 3.5)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id))
    assert status(activity_id) == S.IN_PROGRESS  # between cycles a periodic activity is In Progress
    engine.clock.advance(seconds=step.total_seconds() + 1)
    engine.scheduler.tick()
    second = rounds(activity_id)[1]
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, user_id), record_id=second.id)
    assert status(activity_id) == S.IN_PROGRESS
    engine.clock.advance(seconds=step.total_seconds())
    engine.run_until(lambda: settled(engine, activity_id) and len(rounds(activity_id)) == 3)
    assert [r.status for r in rounds(activity_id)] == [RecordStatus.COMPLETED, RecordStatus.STOPPED,
                                                       RecordStatus.COMPLETED]
    engine.clock.advance(seconds=step.total_seconds() * 2)
    engine.run_until(lambda: settled(engine, activity_id) and status(activity_id) == S.COMPLETED)
    assert len(rounds(activity_id)) == 4 and all(r.trigger in ("publish", "schedule") for r in rounds(activity_id))


def test_periodic_with_max_runs_finishes_after_its_runs(engine) -> None:
    activity_id, user_id, _ = setup_activity(schedule=Schedule.HOURLY, max_runs=2)
    act(svc.publish, activity_id, user_id)
    for _ in range(3):
        engine.run_until(lambda: settled(engine, activity_id))
        engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: status(activity_id) == S.COMPLETED)
    assert len(rounds(activity_id)) == 2


def test_monthly_cycles_keep_the_calendar() -> None:
    activity = Activity(workspace_id=1, name="m", owner_id=1, schedule=Schedule.MONTHLY, schedule_every=1)
    assert next_cycle(activity, datetime(2026, 1, 31, 9, tzinfo=UTC)) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert next_cycle(activity, datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


def test_stop_then_restart_begins_a_new_round_from_the_first_component(engine) -> None:
    activity_id, user_id, _ = setup_activity(wait_hours=1)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: engine.store.due_waits(float("inf")) != [])
    act(svc.stop, activity_id, user_id)
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: settled(engine, activity_id))
    first = rounds(activity_id)[0]
    assert first.status == RecordStatus.STOPPED
    assert engine.store.counters(first.id).get("g", {}).get("entered", 0) == 0  # the stopped round went no further
    act(svc.start, activity_id, user_id)
    engine.run_until(lambda: len(rounds(activity_id)) == 2 and engine.store.due_waits(float("inf")) != [])
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: status(activity_id) == S.COMPLETED)
    second = rounds(activity_id)[1]
    assert (second.trigger, second.status) == ("restart", RecordStatus.COMPLETED)
    assert engine.store.counters(second.id)["t"]["entered"] == 30  # from the first component again


def _set_rule(audience_id: int, kind: str, rule: dict) -> None:
    with write_session() as session:
        audience = session.get(Audience, audience_id)
        audience.kind, audience.rule = kind, rule
        session.add(audience)


def test_crowd_data_failure_then_rerun_immediately(engine) -> None:
    activity_id, user_id, audience_id = setup_activity(max_runs=1)
    _set_rule(audience_id, "rule", {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]})
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    failed = rounds(activity_id)[0]
    assert failed.status == RecordStatus.ABNORMAL_END and failed.failure_kind == "crowd_data"
    assert failed.failure_reason.startswith("Failed to obtain crowd data")
    assert status(activity_id) == S.ABNORMAL_END
    _set_rule(audience_id, "static", {})  # the audience is fixed: Re-run, beyond max runs, runs at once
    with write_session() as session:
        records.rerun_record(session=session, actor=session.get(User, user_id), record_id=failed.id)
    engine.run_until(lambda: settled(engine, activity_id) and len(rounds(activity_id)) == 2)
    rerun = rounds(activity_id)[1]
    assert (rerun.trigger, rerun.status, rerun.rerun_of_id) == ("rerun", RecordStatus.COMPLETED, failed.id)
    assert engine.store.counters(rerun.id)["g"]["entered"] == 30
    with read_session() as session:
        assert session.get(Activity, activity_id).runs_used == 1


def test_rerun_asked_during_a_round_runs_after_it(engine) -> None:
    activity_id, user_id, audience_id = setup_activity(schedule=Schedule.DAILY, wait_hours=1)
    _set_rule(audience_id, "rule", {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]})
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    failed = rounds(activity_id)[0]
    _set_rule(audience_id, "static", {})
    with write_session() as session:  # a periodic activity that ended abnormally; restart it to get a round
        activity = session.get(Activity, activity_id)
        activity.status = S.STOPPED
        session.add(activity)
    act(svc.start, activity_id, user_id)
    engine.run_until(lambda: engine.store.due_waits(float("inf")) != [])  # round 2 is waiting: in progress
    with write_session() as session:
        queued = records.rerun_record(session=session, actor=session.get(User, user_id), record_id=failed.id)
    assert queued.id == failed.id and queued.rerun_pending
    engine.scheduler.tick()
    assert len(rounds(activity_id)) == 2  # not while round 2 runs
    engine.clock.advance(minutes=61)
    engine.run_until(lambda: any(r.trigger == "rerun" for r in rounds(activity_id)))
    rerun = next(r for r in rounds(activity_id) if r.trigger == "rerun")
    second = rounds(activity_id)[1]
    assert second.status == RecordStatus.COMPLETED and rerun.started_at >= second.ended_at


def test_a_failing_component_ends_the_round_abnormally(engine, monkeypatch) -> None:
    from engine.components.registry import get_component

    def explode(*_args, **_kw):
        raise RuntimeError("tag store unavailable")

    monkeypatch.setattr(type(get_component("tag")), "execute", explode)
    activity_id, user_id, _ = setup_activity()
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    [only] = rounds(activity_id)
    assert only.status == RecordStatus.ABNORMAL_END and "tag store unavailable" in only.failure_reason
    assert only.failure_kind == "component" and status(activity_id) == S.ABNORMAL_END


def test_redis_lost_inside_a_component_is_not_the_components_failure(engine, monkeypatch) -> None:
    """Redis refuses the component's store call and is back by the time the failure would be recorded (a Redis
    restart, CI stop 30): the walk runs again once Redis answers, and the round completes as if nothing had
    happened, each customer counted once, no failure recorded."""
    import redis

    from engine.components.registry import get_component
    from tests.engine.runtime.support import persisted_counters

    kind = type(get_component("tag"))
    original, calls = kind.execute, []

    def refused_once(self, *args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return original(self, *args, **kw)

    monkeypatch.setattr(kind, "execute", refused_once)
    activity_id, user_id, _ = setup_activity(n=30)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    [only] = rounds(activity_id)
    assert len(calls) >= 2, "the component ran again after Redis answered"
    assert only.status == RecordStatus.COMPLETED and only.failure_reason is None, only.failure_reason
    assert persisted_counters(only.id)["g"]["entered"] == 30 and status(activity_id) == S.COMPLETED
