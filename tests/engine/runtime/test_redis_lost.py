"""Losing Redis is never "Completed" (engine/runtime/redis_state.py): a round whose Redis state vanished while it
was In Progress ends Abnormal End with the reason in words and can be re-run; a round that had not begun is
dispatched again and completes normally. Walked in process against a real Redis whose data is dropped
(FLUSHDB: what a Redis restarted without its files holds); the process tests (test_redis_faults.py) kill the
real server."""

from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import Activity, ExecutionRecord, RecordTrigger, User
from engine.runtime import redis_state
from engine.runtime.connection import get_redis
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore
from engine.scheduler import Scheduler
from engine.services import records as record_service
from engine.status import ActivityStatus, RecordStatus
from tests.engine.runtime import support as s

N = 400


def _setup(monkeypatch, simulator) -> tuple[int, int, int]:
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "100")
    from engine.channels.registry import reset_channels
    from engine.settings import get_settings

    get_settings.cache_clear()
    reset_channels()
    activity_id, owner_id = s.seed_activity(N)
    return activity_id, owner_id, s.records(activity_id)[0].id


def test_a_round_whose_redis_state_vanished_mid_run_ends_abnormal_end_and_can_be_re_run(
        database, redis_url, simulator, monkeypatch) -> None:
    activity_id, owner_id, record_id = _setup(monkeypatch, simulator)
    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
    assert len(batches) == 4 and redis_state.present(store.r, record_id)
    node, first = batches[0]
    assert run_step(record_id, node, first, store=store) == 3  # one batch walked, three pending
    store.r.flushdb()  # Redis restarted without its data: pending set, counters, results, marker all gone
    for node, batch in batches[1:]:  # the messages a worker still had: each finds nothing pending
        assert run_step(record_id, node, batch, store=store) == 0
    assert finish_if_done(record_id, store=store)  # closed ... but not Completed
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        activity = session.get(Activity, activity_id)
        assert record.status == RecordStatus.ABNORMAL_END
        assert record.failure_reason == redis_state.LOST_REASON
        assert "Redis restarted without its data" in record.failure_reason
        assert record.failure_kind == redis_state.STATE_LOST_FAILURE
        assert activity.status == ActivityStatus.ABNORMAL_END
        actor = session.get(User, owner_id)
        [row] = record_service.list_records(session=session, actor=actor, activity_id=activity_id)
        assert row.can_rerun and row.status_label == "Abnormal End"
    with write_session() as session:
        rerun = record_service.rerun_record(session=session, actor=session.get(User, owner_id), record_id=record_id)
        rerun_id = rerun.id
        assert rerun.trigger == RecordTrigger.RERUN
    s.run_in_process(rerun_id)  # the re-run walks the whole audience again, to the end
    assert s.persisted_counters(rerun_id)["t"]["entered"] == N
    assert s.records_status(record_id) == RecordStatus.ABNORMAL_END


def test_a_round_dispatched_but_not_begun_when_redis_lost_its_data_is_dispatched_again(
        database, redis_url, simulator, monkeypatch) -> None:
    _activity_id, _owner, record_id = _setup(monkeypatch, simulator)
    store = RoundStore(get_redis())
    dispatched: list[int] = []
    scheduler = Scheduler(dispatch=dispatched.append, resume=lambda *a: None, store=store)
    scheduler.tick()
    assert dispatched == [record_id] and redis_state.present(store.r, record_id)
    store.r.flushdb()  # the begin_round message was lost with Redis's data, before any worker took it
    done = scheduler.tick()
    assert done["redispatched"] == [record_id] and done["lost"] == []
    assert dispatched == [record_id, record_id]  # the outbox handed it to the workers again
    assert store.r.get(redis_state.IDENTITY_KEY).decode() == redis_state.database_identity()  # rebound
    s.run_in_process(record_id)
    assert s.persisted_counters(record_id)["t"]["entered"] == N


def test_the_scheduler_ends_a_lost_round_no_worker_will_touch_again(database, redis_url, simulator,
                                                                    monkeypatch) -> None:
    """Redis lost the queues too: no walk will ever call finish_if_done; the scheduler's pass finds the round."""
    _activity_id, _owner, record_id = _setup(monkeypatch, simulator)
    store = RoundStore(get_redis())
    dispatched: list[int] = []
    scheduler = Scheduler(dispatch=dispatched.append, resume=lambda *a: None, store=store)
    scheduler.tick()
    start_round(record_id, enqueue=lambda *a: None, store=store)  # begun; its walk messages are in Redis
    assert dispatched == [record_id] and store.pending(record_id) == 4
    store.r.flushdb()
    done = scheduler.tick()
    assert done["lost"] == [record_id]
    assert s.records_status(record_id) == RecordStatus.ABNORMAL_END
    assert scheduler.tick()["lost"] == []  # once
    with read_session() as session:
        assert session.exec(select(ExecutionRecord.status)).all() == [RecordStatus.ABNORMAL_END]
