"""Faults on the real processes: a worker SIGKILLed mid-run and started again, Redis restarted mid-run (with
its append-only file), the scheduler killed and restarted across a start time, periodic cycles and an end
time, a provider that answers 503 or too slowly. Every run must end exactly as a fault-free run does.

The workers and the scheduler run as subprocesses (`dramatiq engine.actors`, `python -m engine.scheduler`)
against this test's database, Redis and provider simulator; dead workers' messages come back after
1.5 s here (DRAMATIQ_HEARTBEAT_TIMEOUT_MS; a minute by default)."""

import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from engine import clock, db
from engine.channels.registry import reset_channels
from engine.models import Activity, CustomerStep, ExecutionRecord
from engine.runtime.connection import get_redis, reset_redis
from engine.runtime.store import RoundStore
from engine.settings import get_settings
from engine.simulator import SimulatorServer
from engine.status import ActivityStatus, RecordStatus
from tests.engine.channels.helpers import free_port
from tests.engine.runtime import support as s
from tests.engine.runtime.invariants import Sampler
from tests.redis_process import RedisProcess

N = 1500  # customers; batches of 100: 15 walks, ~2,200 provider messages


@pytest.fixture
def env(database: str, redis_url: str, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "100")
    for key, value in s.FAST_RECOVERY.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_channels()
    yield tmp_path
    reset_channels()


def _use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engine()


def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: SimulatorServer, *, n: int = N):
    """A fault-free run of the same activity on a fresh database of its own (same ids: record 1 both times),
    walked in process; returns its counters, step rows and what the simulator received. Leaves the test's
    database, an empty Redis and a reset simulator behind."""
    test_url = get_settings().database_url
    _use_database(f"sqlite:///{tmp_path / 'reference.db'}", monkeypatch)
    from engine.migrate import upgrade_to_head

    upgrade_to_head()
    activity_id, _ = s.seed_activity(n)
    record_id = s.records(activity_id)[0].id
    s.run_in_process(record_id)
    result = (s.persisted_counters(record_id), s.step_count(record_id),
              httpx.get(f"{sim.url}/admin/stats").json()["unique"])
    _use_database(test_url, monkeypatch)
    get_redis().flushdb()
    httpx.post(f"{sim.url}/admin/reset")
    return result


def _assert_exactly_once(sim: SimulatorServer, record_id: int, expected_unique: int) -> None:
    stats = sim.simulator.snapshot()
    assert stats["unique"] == expected_unique
    assert stats["duplicates"] == 0, httpx.get(f"{sim.url}/admin/messages", params={"duplicates": 1}).json()
    for node in ("sms", "push"):
        sent = s.persisted_counters(record_id)[node]["sent"]
        assert httpx.get(f"{sim.url}/admin/messages", params={"prefix": f"{record_id}:{node}:", "limit": 0}
                         ).json()["total"] == sent


def test_worker_killed_mid_run_completes_exactly_like_a_fault_free_run(env, sim, monkeypatch) -> None:
    counters, steps, unique = reference(env, monkeypatch, sim)
    activity_id, _ = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    scheduler = s.scheduler_in_process()
    first = s.worker(s.engine_env(), env).start()
    store = RoundStore(get_redis())
    # the counting rules hold at every instant of the run, through the kill and the redelivered walks
    with Sampler(lambda: store.counters(record_id), s.fault_flow(0), N) as sampler:
        try:
            s.wait_for(lambda: s.received(sim) >= 300, 60, tick=scheduler.tick, what="sends to start")
            first.kill()  # SIGKILL, mid-send: the simulator holds answers the dead worker never stored
            in_flight = s.received(sim)
            assert 300 <= in_flight < unique and s.records_status(record_id) == RecordStatus.IN_PROGRESS
            second = s.worker(s.engine_env(), env).start()
            try:
                s.wait_for(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS, 90,
                           tick=scheduler.tick, what="the round to complete after the restart")
            finally:
                second.stop()
        finally:
            first.kill()
    assert sampler.error is None and not sampler.problems, (sampler.error, sampler.problems[:10])
    assert len(sampler.samples) >= 10
    assert s.records_status(record_id) == RecordStatus.COMPLETED, first.log()
    assert s.persisted_counters(record_id) == counters
    assert s.step_count(record_id) == steps
    _assert_exactly_once(sim, record_id, unique)
    # whether the kill left a send in doubt (then the restarted worker asks the provider: a lookup) depends on
    # where the walk was; the lookup path itself is proven in tests/engine/channels/test_bulk_and_lookup.py


def test_redis_restarted_mid_run_resumes_and_completes_with_the_same_result(env, sim, monkeypatch) -> None:
    counters, steps, unique = reference(env, monkeypatch, sim)
    server = RedisProcess(env, free_port()).start()
    monkeypatch.setenv("REDIS_URL", server.url)
    get_settings.cache_clear()
    reset_redis()
    try:
        activity_id, _ = s.seed_activity(N)
        record_id = s.records(activity_id)[0].id
        scheduler = s.scheduler_in_process()
        workers = s.worker(s.engine_env(), env).start()
        try:
            s.wait_for(lambda: s.received(sim) >= 300, 60, tick=scheduler.tick, what="sends to start")
            server.stop()  # mid-run: workers, scheduler and broker lose Redis
            assert s.received(sim) < unique
            s.redis_missed(scheduler)  # down until the engine has seen it gone
            server.start()  # the same port and files: the append-only file brings everything back
            s.wait_for(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS, 90, tick=scheduler.tick,
                       what="the round to complete after Redis came back")
        finally:
            workers.stop()
        assert s.records_status(record_id) == RecordStatus.COMPLETED, workers.log()
        assert s.persisted_counters(record_id) == counters
        assert s.step_count(record_id) == steps
        _assert_exactly_once(sim, record_id, unique)
    finally:
        server.stop()
        reset_redis()


def test_scheduler_killed_and_restarted_across_start_cycles_and_end(env, monkeypatch) -> None:
    """Hourly activity from T+10 min to T+5 h 10 min. The scheduler process is SIGKILLed and restarted while
    the start time passes, while cycles come due (several at once: it catches up one period at a time), in
    the middle of catching up, and across the end time. Every round runs once, none is skipped, none starts
    at or after the end."""
    from engine import actors
    from engine.models import Schedule
    from engine.runtime.broker import redis_broker

    clock_file = env / "clock.txt"
    t0 = clock.now().replace(microsecond=0)

    def set_time(when) -> None:  # noqa: ANN001
        clock_file.write_text(when.isoformat())

    set_time(t0)
    monkeypatch.setenv("ENGINE_CLOCK_FILE", str(clock_file))
    monkeypatch.setenv("SCHEDULER_LEASE_MS", "800")
    get_settings.cache_clear()
    import dramatiq

    broker = redis_broker()
    actors.rebind(broker)
    workers = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    workers.start()
    sched = s.scheduler(s.engine_env(), env)
    try:
        def tiny_flow(audience_id: int) -> dict:
            return {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": audience_id}},
                              {"id": "e", "type": "end", "config": {}}],
                    "edges": [{"source": "t", "branch": "out", "target": "e"}]}

        start, end = t0 + timedelta(minutes=10), t0 + timedelta(hours=5, minutes=10)
        activity_id, _ = s.seed_activity(40, tiny_flow, start_time=start, end_time=end, schedule=Schedule.HOURLY)

        def status() -> str:
            from engine.db import read_session

            with read_session() as session:
                return session.get(Activity, activity_id).status

        def rounds_done(n: int) -> bool:
            rs = s.records(activity_id)
            return len(rs) >= n and all(r.status == RecordStatus.COMPLETED for r in rs)

        sched.start()
        s.scheduler_ticks(get_redis(), 2)  # it ran its ticks: nothing was due yet
        assert status() == ActivityStatus.NOT_STARTED and not s.records(activity_id)
        sched.kill()
        begun = t0 + timedelta(minutes=15)  # the start time passes while the scheduler is dead
        set_time(begun)
        sched.start()
        s.wait_for(lambda: rounds_done(1), 30, what="the activity to begin once")
        sched.kill()
        set_time(begun + timedelta(hours=2, minutes=5))  # two cycles come due while it is dead
        sched.start()
        s.wait_for(lambda: rounds_done(3), 30, what="two cycles, one at a time")
        for ticks in (0, 1, 2):  # killed again and again in the middle of catching up: at start, after 1, 2 ticks
            sched.kill()
            set_time(begun + timedelta(hours=3, minutes=5))
            sched.start()
            s.scheduler_ticks(get_redis(), ticks)
        s.wait_for(lambda: rounds_done(4), 30, what="the third cycle")
        sched.kill()
        set_time(end + timedelta(hours=1, minutes=30))  # past the end time, and past one more cycle time
        sched.start()
        s.wait_for(lambda: status() == ActivityStatus.COMPLETED and rounds_done(5), 30, what="the end")
        s.scheduler_ticks(get_redis(), 3)  # a few more ticks change nothing
        sched.stop()
    finally:
        sched.kill()
        workers.stop()
        broker.close()
    rounds = s.records(activity_id)
    assert [r.number for r in rounds] == [1, 2, 3, 4, 5]  # start + 4 cycles; the one at B+5h ≥ end is skipped
    assert all(r.status == RecordStatus.COMPLETED for r in rounds)
    # each ran once, with its whole audience (the last cycle was due before the end, caught up after it)
    assert [s.persisted_counters(r.id).get("t", {}).get("entered") for r in rounds] == [40] * 5
    with db.read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.COMPLETED
        starts = session.exec(select(ExecutionRecord.started_at).where(
            ExecutionRecord.activity_id == activity_id)).all()
    assert all(at >= start for at in starts)


@pytest.mark.parametrize("fault, reason", [
    ({"outage": True}, "provider unavailable: HTTP 503 after 3 attempts"),
    ({"response_delay": 1.0}, "provider unavailable: timed out after 3 attempts"),
])
def test_provider_outage_fails_the_customers_with_the_reason_and_the_worker_goes_on(
        engine, simulator, monkeypatch, fault, reason) -> None:
    monkeypatch.setenv("PROVIDER_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("PROVIDER_BACKOFF", "0.05")
    monkeypatch.setenv("PROVIDER_TIMEOUT", "0.25")
    get_settings.cache_clear()
    reset_channels()

    def run(n: int) -> int:
        activity_id, _ = s.seed_activity(n)
        engine.scheduler.tick()
        engine.run_until(lambda: s.records(activity_id)[0].status != RecordStatus.IN_PROGRESS, timeout=60)
        return s.records(activity_id)[0].id

    httpx.post(f"{simulator.url}/admin/config", json=fault)
    started = time.monotonic()
    failed_round = run(60)
    elapsed = time.monotonic() - started
    counters = s.persisted_counters(failed_round)["sms"]
    reachable = 60 - 2  # every 50th customer has no phone
    assert counters["failed"] == counters["sent"] == reachable and counters["success"] == counters["pending"] == 0
    assert elapsed >= 0.05 + 0.1  # the backoff between the three attempts was waited
    with db.read_session() as session:
        reasons = session.exec(select(CustomerStep.reason).where(
            CustomerStep.record_id == failed_round, CustomerStep.node_id == "sms")).all()
    assert sorted(set(reasons)) == sorted({reason, "no phone number"})
    assert s.records_status(failed_round) == RecordStatus.COMPLETED  # failed sends are results, not a failure
    # the provider is back: the same worker sends the next round normally
    httpx.post(f"{simulator.url}/admin/config", json={"outage": False, "response_delay": 0.0})
    healthy = run(30)
    sms = s.persisted_counters(healthy)["sms"]
    assert sms["sent"] == 29 and sms["failed"] == 0


def test_lost_messages_are_rescued_by_the_scheduler(engine) -> None:
    """A pending batch whose message is gone (Redis restored from an old snapshot, a message dead-lettered)
    gets a new one once its round has stalled; a walk already done is a no-op."""
    from engine import actors

    activity_id, _ = s.seed_activity(300)
    record_id = s.records(activity_id)[0].id
    engine.scheduler.tick()
    engine.run_until(lambda: s.records_status(record_id) == RecordStatus.COMPLETED)
    counters = s.persisted_counters(record_id)
    # as if the round were still running with one batch whose message was lost
    with db.write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        record.status = RecordStatus.IN_PROGRESS
        session.add(record)
    engine.store.add_pending(record_id, ["e0"])
    engine.scheduler.walk = lambda record, node, batch, resume: actors.run_batch.send(record, node, batch, resume)
    engine.scheduler.stall_s = 0.2
    engine.run_until(lambda: s.records_status(record_id) == RecordStatus.COMPLETED, timeout=30)
    assert s.persisted_counters(record_id) == counters
