"""Execution Records' Stop and Re-run on the real engine (Dramatiq workers on Redis, the scheduler, a test
clock): a stopped round routes nobody further — its parked customers never go on — while a periodic activity's
next cycle still runs; a re-run after a crowd-data failure is a round the engine runs; the canvas's execution
view shows each round's own numbers."""

from engine.db import read_session, write_session
from engine.models import Schedule, User
from engine.services import activities as svc
from engine.services import records
from engine.services.execution import execution_view
from engine.status import ActivityStatus, RecordStatus
from tests.engine.runtime.test_lifecycle import _set_rule, act, rounds, settled, setup_activity, status


def numbers(user_id: int, activity_id: int, record_id: int) -> dict[str, dict[str, int]]:
    with read_session() as session:
        view = execution_view(session=session, actor=session.get(User, user_id), activity_id=activity_id,
                              record_id=record_id)
    return {nid: dict(n.values) for nid, n in view.nodes.items()}


def test_stopping_a_round_parks_nobody_further_and_the_next_cycle_runs(engine) -> None:
    activity_id, user_id, _ = setup_activity(n=30, schedule=Schedule.MINUTES, schedule_every=15, wait_hours=1)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: len(engine.store.due_waits(float("inf"))) > 0)  # round 1 waits for an hour
    first = rounds(activity_id)[0]
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, user_id), record_id=first.id)
    assert status(activity_id) == ActivityStatus.IN_PROGRESS  # periodic: the activity keeps its cycles
    engine.clock.advance(minutes=16)  # the next cycle is due
    engine.run_until(lambda: len(rounds(activity_id)) == 2
                     and any(d["record"] == rounds(activity_id)[1].id for _, d in engine.store.due_waits(float("inf"))))
    second = rounds(activity_id)[1]
    assert second.status == RecordStatus.IN_PROGRESS and second.trigger == "schedule"
    assert numbers(user_id, activity_id, second.id)["t"]["entered"] == 30  # the next cycle ran
    engine.clock.advance(minutes=61)  # both waits are over: round 2 goes on, nobody of the stopped round 1 does
    engine.run_until(lambda: rounds(activity_id)[1].status == RecordStatus.COMPLETED)
    stopped = numbers(user_id, activity_id, first.id)
    assert stopped["t"]["entered"] == 30 and stopped["w"]["met"] == 0 and stopped["g"]["entered"] == 0
    assert rounds(activity_id)[0].status == RecordStatus.STOPPED
    assert numbers(user_id, activity_id, second.id)["g"] == {"met": 30, "entered": 30}


def test_a_rerun_after_a_crowd_data_failure_is_run_by_the_engine(engine) -> None:
    activity_id, user_id, audience_id = setup_activity(n=30)
    _set_rule(audience_id, "rule", {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]})
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id) != [])
    failed = rounds(activity_id)[0]
    assert failed.failure_kind == "crowd_data" and numbers(user_id, activity_id, failed.id)["t"]["entered"] == 0
    _set_rule(audience_id, "static", {})
    with write_session() as session:
        rerun = records.rerun_record(session=session, actor=session.get(User, user_id), record_id=failed.id)
        rerun_id = rerun.id
    engine.run_until(lambda: settled(engine, activity_id) and rounds(activity_id)[-1].status == RecordStatus.COMPLETED)
    assert numbers(user_id, activity_id, rerun_id) == {"t": {"met": 30, "entered": 30},
                                                       "g": {"met": 30, "entered": 30}, "e": {"reached": 30}}
