"""The run command's own layout heals itself: the engine under deploy/supervisord.conf (two worker programs,
the scheduler, the API, the simulator program, the SMTP sink — everything but the Reflex UI) with the default
recovery settings. One Dramatiq worker process is SIGKILLed while it walks batches against a slow provider:
supervisord starts it again alone, the other worker walks on, the round completes with no human action and
the provider simulator received every message exactly once.

The provider is this test's in-process simulator (the `sim` fixture: every send answered after 0.1 s), so it
counts message ids; the supervised simulator program runs idle on a port of its own."""

import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from engine.runtime.connection import get_redis
from engine.settings import get_settings
from engine.simulator import SimulatorServer
from engine.status import RecordStatus
from tests.engine.runtime import support as s
from tests.engine.runtime.supervised import Sampler, Supervisor

N = 3000  # customers in batches of 200: 15 walks, ~4,400 provider messages in requests of 20


@pytest.fixture
def supervisor(database: str, redis_url: str, sim: SimulatorServer, tmp_path: Path):
    sup = Supervisor(tmp_path / "logs", PROVIDER_URL=sim.url, ENGINE_BATCH_SIZE="200", PROVIDER_BATCH_SIZE="20")
    try:
        yield sup.start()
    finally:
        sup.shutdown()


def _messages(sim: SimulatorServer, prefix: str) -> int:
    return httpx.get(f"{sim.url}/admin/messages", params={"prefix": prefix, "limit": 0}).json()["total"]


@pytest.mark.sqlite_only("supervision is the same on any database; test_faults SIGKILLs workers on PostgreSQL")
@pytest.mark.parametrize("target", ["worker process", "dramatiq parent"])
def test_a_killed_worker_is_restarted_alone_and_the_round_completes_exactly_once(supervisor, sim, target) -> None:
    """`worker process`: the one walking batches dies (the OOM killer's pick); its dramatiq parent exits, the
    program is restarted, and its batches are walked again once its heartbeat is stale. `dramatiq parent`: the
    supervised pid dies; its orphaned worker process finishes its walks and stops by itself (ParentWatch)."""
    settings = get_settings()
    workers = {name: pid for name, (_, pid) in supervisor.status().items() if name.startswith("worker:")}
    assert sorted(workers) == ["worker:worker-0", "worker:worker-1"]
    victim = supervisor.worker_process("worker:worker-0")
    orphan = psutil.Process(victim)
    activity_id, _ = s.seed_activity(N)  # published: the supervised scheduler starts the round by itself
    record_id = s.records(activity_id)[0].id

    with Sampler(get_redis()) as sampler:
        s.wait_for(lambda: sim.simulator.snapshot()["unique"] >= 200 and sampler.held_by(victim), 60,
                   what="worker-0 walking batches while sends go out")
        held = sampler.held_by(victim)
        killed_at = time.monotonic()
        os.kill(victim if target == "worker process" else workers["worker:worker-0"], signal.SIGKILL)
        assert s.records_status(record_id) == RecordStatus.IN_PROGRESS
        assert sim.simulator.snapshot()["unique"] < N  # mid-round
        s.wait_for(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS, 120,
                   what="the round to complete with no human action", interval=0.2)

    assert s.records_status(record_id) == RecordStatus.COMPLETED, supervisor.logs()
    # supervisord restarted worker-0 (a new dramatiq parent and worker process) and said so; worker-1 went on
    # (the round may finish before supervisord's startsecs have passed: the restarted one is STARTING until then)
    s.wait_for(lambda: supervisor.status()["worker:worker-0"][0] == "RUNNING", 60,
               what="supervisord to report the restarted worker-0 RUNNING")
    after = supervisor.status()
    assert after["worker:worker-0"][0] == "RUNNING" and after["worker:worker-0"][1] != workers["worker:worker-0"]
    assert after["worker:worker-1"] == ("RUNNING", workers["worker:worker-1"])
    log = supervisor.log()
    assert ("exited: worker-0 (exit status 1; not expected)" if target == "worker process"
            else "exited: worker-0 (terminated by SIGKILL; not expected)") in log
    assert f"spawned: 'worker-0' with pid {after['worker:worker-0'][1]}" in log
    assert "exited: worker-1" not in log
    if target == "worker process":  # the killed process's batches were walked again by another process
        assert held and set(sampler.walked_again(held, victim, killed_at)) == held
    else:  # the orphan stopped by itself (gracefully: it walked what it held, handed back what it had fetched)
        orphan.wait(30)  # not our child: psutil sees it go, not its exit code
        assert not orphan.is_running()
    # a live worker kept heartbeating while it walked: never anywhere near being declared dead
    ages = sampler.live_silences()
    assert ages and max(ages) < settings.dramatiq_heartbeat_timeout_ms / 2
    # exactly once at the provider: every customer with a phone got one SMS, nobody anything twice
    stats = sim.simulator.snapshot()
    assert stats["duplicates"] == 0
    counters = s.persisted_counters(record_id)
    reachable = N - N // 50  # every 50th customer has no phone
    assert counters["sms"]["sent"] == reachable == _messages(sim, f"{record_id}:sms:")
    assert _messages(sim, f"{record_id}:push:") == counters["push"]["sent"] > 0
    assert stats["unique"] == counters["sms"]["sent"] + counters["push"]["sent"]
    assert counters["t"]["entered"] == N
    # the run command's exit (supervisorctl shutdown) stops every program; the workers finish cleanly
    programs = [psutil.Process(pid) for _, pid in supervisor.status().values() if pid]
    pids = [p.pid for program in programs for p in (program, *program.children(recursive=True))]
    supervisor.shutdown()
    log = supervisor.log()
    assert "stopped: worker-0 (exit status 0)" in log and "stopped: worker-1 (exit status 0)" in log
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
