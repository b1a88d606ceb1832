"""Scale-out: several worker processes — as on separate hosts: processes of their own that share nothing but the
Redis and the database — and two schedulers (one acts, by the Redis lease) share one round. The result must be
the one a single worker process gives on a database of its own: the same counters, the same step row for every
customer, and every provider message received exactly once by the simulator.

Runs on SQLite and, with TEST_POSTGRES_URL (scripts/test.sh), on PostgreSQL: the deployment the README's
"Workers on more machines" describes."""

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from engine.channels.registry import reset_channels
from engine.db import get_engine
from engine.runtime.connection import get_redis
from engine.settings import get_settings
from engine.simulator import SimulatorServer
from engine.status import RecordStatus
from tests.databases import use_database
from tests.engine.runtime import support as s

N = 2000  # customers in batches of 100: 20 walks, ~3,000 provider messages
WORKERS = 3


@pytest.fixture
def env(database: str, redis_url: str, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "100")
    get_settings.cache_clear()
    reset_channels()
    yield tmp_path
    reset_channels()


class ClaimWatch:
    """Samples the batch claims in Redis (`claim:{record}:{batch}` = host:pid:…) while a round runs: which
    processes walked batches."""

    def __init__(self, r: redis.Redis) -> None:
        self.r, self.stop = r, threading.Event()
        self.batches: dict[str, set[str]] = {}  # pid → batches seen claimed by it
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            keys = list(self.r.scan_iter("claim:*", count=1000))
            for key, token in zip(keys, self.r.mget(keys) if keys else [], strict=True):
                if token:
                    self.batches.setdefault(token.decode().split(":")[1], set()).add(key.decode())

    def __enter__(self) -> "ClaimWatch":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(5)


def run_round(workdir: Path, sim: SimulatorServer, workers: int, schedulers: int) -> dict:
    """Seed the activity on the current database, run it to completion on `workers` worker processes and
    `schedulers` scheduler processes, and return what it produced."""
    workdir.mkdir()
    activity_id, _ = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    r = get_redis()
    procs = [s.worker(s.engine_env(), workdir, threads=2) for _ in range(workers)]
    for i, proc in enumerate(procs):
        proc.name = f"worker{i}"
    procs += [s.scheduler(s.engine_env(), workdir) for _ in range(schedulers)]
    for i, proc in enumerate(procs[workers:]):
        proc.name = f"scheduler{i}"
    try:
        for proc in procs[:workers]:
            proc.start()
        # every worker polls its queues (a heartbeat each) before the round exists, so all compete for it
        s.wait_for(lambda: r.zcard("dramatiq:__heartbeats__") >= workers, 60, what="the workers to be up")
        with ClaimWatch(r) as claims:
            for proc in procs[workers:]:
                proc.start()
            s.wait_for(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS, 120,
                       what="the round to complete")
    finally:
        for proc in procs:
            proc.stop()
    assert s.records_status(record_id) == RecordStatus.COMPLETED, "\n".join(p.log() for p in procs)
    steps = sorted((r.node_id, r.customer_id, r.branch, r.result, r.reason) for r in s.steps_of(record_id))
    stats = sim.simulator.snapshot()
    per_node = {node: httpx.get(f"{sim.url}/admin/messages", params={"prefix": f"{record_id}:{node}:", "limit": 0}
                                ).json()["total"] for node in ("sms", "push")}
    return {"record": record_id, "counters": s.persisted_counters(record_id), "steps": steps,
            "unique": stats["unique"], "duplicates": stats["duplicates"], "per_node": per_node,
            "walkers": {pid: len(b) for pid, b in claims.batches.items()}}


def test_worker_processes_sharing_redis_and_the_database_give_the_single_worker_result(
        env: Path, sim: SimulatorServer, make_database: Callable[[str], str], monkeypatch) -> None:
    shared_url = get_settings().database_url
    kind = get_engine().dialect.name
    # the reference: one worker process and one scheduler, on a fresh database of the same kind
    make_database("postgresql" if kind == "postgresql" else "sqlite")
    single = run_round(env / "single", sim, workers=1, schedulers=1)
    get_redis().flushdb()
    httpx.post(f"{sim.url}/admin/reset")
    # the same activity on the shared database: three worker processes and two schedulers
    use_database(shared_url, monkeypatch)
    assert get_engine().dialect.name == kind
    shared = run_round(env / "shared", sim, workers=WORKERS, schedulers=2)

    assert shared["record"] == single["record"]  # same record id: the same splits and message ids
    assert len(shared["walkers"]) >= 2, shared["walkers"]  # the round really was shared (pid → batches)
    assert shared["counters"] == single["counters"]
    assert shared["steps"] == single["steps"] and len(shared["steps"]) > 3 * N
    # exactly once at the provider: every message id once, as many as the single worker sent
    assert shared["duplicates"] == single["duplicates"] == 0
    assert shared["unique"] == single["unique"] == sum(single["per_node"].values())
    assert shared["per_node"] == single["per_node"]
    assert shared["per_node"] == {node: shared["counters"][node]["sent"] for node in ("sms", "push")}
