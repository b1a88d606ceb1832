"""A send-rate limit holds across worker processes: two `dramatiq engine.actors` processes walk one round's
batches at once, and the provider never receives more than the activity's messages per minute in total (the
budget is Redis's, taken by one Lua call per batch: engine/runtime/rate_limit.py). The processes and this test
share one clock file (engine/clock.py), moved a minute at a time."""

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from engine.channels.registry import reset_channels
from engine.runtime.connection import get_redis
from engine.services.pacing import PacingInput
from engine.settings import get_settings
from engine.simulator import SimulatorServer
from engine.status import RecordStatus
from tests.engine.runtime import support as s

N, PER_MINUTE, WORKERS = 230, 50, 2


def _flow(audience_id: int) -> dict[str, Any]:
    def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id), node("sms", "text_sms", content="Hi"),
                      node("e", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "e"}]}


class Walkers:
    """The worker processes seen holding a batch claim of the round (pid → batches)."""

    def __init__(self, r: redis.Redis) -> None:
        self.r, self.stop, self.seen = r, threading.Event(), {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.005):
            keys = list(self.r.scan_iter("claim:*", count=1000))
            for key, token in zip(keys, self.r.mget(keys) if keys else [], strict=True):
                if token:
                    self.seen.setdefault(token.decode().split(":")[1], set()).add(key.decode())


@pytest.fixture
def env(database: str, redis_url: str, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "10")
    monkeypatch.setenv("ENGINE_CLOCK_FILE", str(tmp_path / "clock"))
    get_settings.cache_clear()
    reset_channels()
    yield tmp_path
    reset_channels()


def test_two_worker_processes_never_send_more_than_the_limit_per_minute(env: Path, sim: SimulatorServer) -> None:
    clock_file = env / "clock"

    def set_minute(minute: int) -> None:
        clock_file.write_text(datetime(2026, 12, 7, 10, minute, 5, tzinfo=UTC).isoformat())

    set_minute(0)
    activity_id, _ = s.seed_activity(N, flow=_flow, pacing=PacingInput(max_per_minute=PER_MINUTE))
    record_id = s.records(activity_id)[0].id
    r = get_redis()
    scheduler = s.scheduler_in_process()
    procs = [s.worker(s.engine_env(), env, threads=2) for _ in range(WORKERS)]
    for i, proc in enumerate(procs):
        proc.name = f"worker{i}"

    def sent() -> int:
        return int(httpx.get(f"{sim.url}/admin/messages", params={"prefix": f"{record_id}:sms:", "limit": 0}
                             ).json()["total"])

    def at_rest() -> bool:  # every pending batch is held at the touch: nothing more can be sent this minute
        pending = {m.decode() for m in r.smembers(f"pending:{record_id}")}
        parked = {m.decode() for m in r.zrange("waits", 0, -1)}
        return all(any(f'"{b}"' in p for p in parked) for b in pending)

    walkers = Walkers(r)
    walkers.thread.start()
    totals = []
    try:
        for proc in procs:
            proc.start()
        s.wait_for(lambda: r.zcard("dramatiq:__heartbeats__") >= WORKERS, 60, what="the workers to be up")
        with_phone = N - len(range(0, N, 50))  # every 50th customer has no phone: not sent, but paced too
        minute = 0
        while s.records_status(record_id) == RecordStatus.IN_PROGRESS:
            assert minute < 10, totals
            expected = min(PER_MINUTE * (minute + 1), N)
            s.wait_for(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS
                       or (r.scard(f"pending:{record_id}") > 0 and at_rest()), 120, tick=scheduler.tick,
                       what=f"minute {minute}'s sends")
            totals.append(sent())
            # customers are paced, the ones without a phone included: the total sent is never ahead of the budget
            assert totals[-1] <= expected, totals
            minute += 1
            set_minute(minute)
    finally:
        walkers.stop.set()
        walkers.thread.join(5)
        for proc in procs:
            proc.stop()
    assert s.records_status(record_id) == RecordStatus.COMPLETED, "\n".join(p.log() for p in procs)
    per_minute: dict[datetime, int] = {}
    for step in s.steps_of(record_id):
        if step.node_id == "sms" and step.result != "failed":
            at = step.at.replace(tzinfo=UTC) if step.at.tzinfo is None else step.at
            per_minute[at.replace(second=0)] = per_minute.get(at.replace(second=0), 0) + 1
    assert max(per_minute.values()) <= PER_MINUTE and sum(per_minute.values()) == with_phone == sent()
    assert len(per_minute) == 5  # 230 customers at 50 a minute: five minutes
    assert len(walkers.seen) == WORKERS, walkers.seen  # both processes walked batches of the round
    assert sim.simulator.snapshot()["duplicates"] == 0
