"""Redis killed under a running round of 20,000 customers, with real worker processes (`dramatiq engine.actors`):
- restarted on its append-only file (as scripts/redis.sh runs it), the round completes exactly: every counter
  adds up to the audience and the simulator received every message once;
- restarted EMPTY (its files deleted: a Redis without persistence), the round ends Abnormal End with the reason
  in words, re-runnable — never Completed with customers unsent.
The scheduler runs in this process (as in test_faults.py) against the same Redis and database."""

from pathlib import Path

import httpx
import pytest

from engine.channels.registry import reset_channels
from engine.db import read_session
from engine.models import ExecutionRecord, User
from engine.runtime import redis_state
from engine.services import records as record_service
from engine.settings import get_settings
from engine.simulator import SimulatorServer
from engine.status import RecordStatus
from tests.engine.runtime import support as s
from tests.redis_process import RedisProcess

N = 20_000  # customers; batches of 500: 40 walks, ~30,000 provider messages
NO_PHONE = N // 50  # every 50th customer has no phone number


@pytest.fixture
def env(database: str, persistent_redis: RedisProcess, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path):
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "500")
    for key, value in s.FAST_RECOVERY.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_channels()
    yield tmp_path
    reset_channels()


def _kill_mid_run(sim: SimulatorServer, redis_server: RedisProcess, scheduler, record_id: int, *,
                  wipe: bool) -> int:
    """Wait until sends are under way, SIGKILL Redis (and with `wipe` delete its files), start it again once the
    engine has noticed. Returns how many messages the simulator had when Redis died."""
    s.wait_for(lambda: s.received(sim) >= 3000, 120, tick=scheduler.tick, what="sends to start")
    redis_server.kill()
    at_kill = s.received(sim)
    assert s.records_status(record_id) == RecordStatus.IN_PROGRESS
    if wipe:
        redis_server.wipe()
    s.redis_missed(scheduler)  # down until the engine has seen it gone
    redis_server.start()
    return at_kill


def _final(record_id: int, scheduler, workers: s.Proc, timeout: float) -> str:
    """Drive the scheduler until the round leaves In Progress, sampling its status on the way."""
    seen: set[str] = set()

    def ended() -> bool:
        status = s.records_status(record_id)
        seen.add(status)
        return status != RecordStatus.IN_PROGRESS

    s.wait_for(ended, timeout, tick=scheduler.tick, what=f"the round to end\n{workers.log()[-3000:]}")
    for _ in range(5):  # a few more ticks change nothing
        scheduler.tick()
    final = s.records_status(record_id)
    assert seen <= {RecordStatus.IN_PROGRESS, final}
    return final


def test_redis_sigkilled_mid_run_and_restarted_on_its_append_only_file_completes_exactly(
        env, sim, persistent_redis: RedisProcess) -> None:
    activity_id, _ = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    scheduler = s.scheduler_in_process()
    workers = s.worker(s.engine_env(), env).start()
    try:
        at_kill = _kill_mid_run(sim, persistent_redis, scheduler, record_id, wipe=False)
        final = _final(record_id, scheduler, workers, 300)
    finally:
        workers.stop()
    assert final == RecordStatus.COMPLETED, workers.log()
    counters = s.persisted_counters(record_id)
    split = counters["rg"]
    assert counters["t"]["entered"] == counters["sms"]["entered"] == counters["rg"]["entered"] == N
    assert counters["sms"]["sent"] == counters["sms"]["pending"] == N - NO_PHONE
    assert split["branch:group_1"] + split["branch:group_2"] == N
    assert counters["push"]["entered"] == counters["push"]["sent"] == split["branch:group_1"]
    assert counters["e1"]["entered"] + counters["e2"]["entered"] == N
    assert s.step_count(record_id) == 4 * N + split["branch:group_1"]
    stats = sim.simulator.snapshot()
    assert at_kill < stats["unique"] == counters["sms"]["sent"] + counters["push"]["sent"]
    assert stats["duplicates"] == 0, httpx.get(f"{sim.url}/admin/messages", params={"duplicates": 1}).json()


def test_redis_sigkilled_mid_run_and_restarted_empty_ends_the_round_abnormal_end_re_runnable(
        env, sim, persistent_redis: RedisProcess) -> None:
    activity_id, owner_id = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    scheduler = s.scheduler_in_process()
    workers = s.worker(s.engine_env(), env).start()
    try:
        at_kill = _kill_mid_run(sim, persistent_redis, scheduler, record_id, wipe=True)
        final = _final(record_id, scheduler, workers, 120)
    finally:
        workers.stop()
    assert final == RecordStatus.ABNORMAL_END, workers.log()
    assert at_kill < N  # customers were left unsent: Completed would have been a lie
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record.failure_reason == redis_state.LOST_REASON and record.failure_kind == "state_lost"
        [row] = record_service.list_records(session=session, actor=session.get(User, owner_id),
                                            activity_id=activity_id)
        assert row.can_rerun and row.failure_reason.startswith("Engine state lost: Redis restarted without its data")
    assert sim.simulator.snapshot()["duplicates"] == 0  # nothing walked twice after the loss either
