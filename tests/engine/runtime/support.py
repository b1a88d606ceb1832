"""Helpers of the fault tests: the engine's processes as real subprocesses (Dramatiq workers, the scheduler, a
redis-server with persistence), a small seeded audience and flow, and a fault-free reference run."""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import ExecutionRecord, NodeCounter, Role, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

#: worker settings that make a dead worker's messages come back within seconds (production: a minute)
FAST_RECOVERY = {
    "DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "1500",
    "DRAMATIQ_MAINTENANCE_CHANCE": "1000000",
    "ENGINE_CLAIM_TTL_MS": "2000",
    "dramatiq_worker_timeout": "100",
    "dramatiq_restart_delay": "500",
}


class Proc:
    """A subprocess in its own process group (so SIGKILL takes its children too), output to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env, self.log_dir = name, args, env, log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Proc":
        self.starts += 1
        log = open(self.log_dir / f"{self.name}-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        return self

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob(f"{self.name}-*.log")))


def engine_env(**extra: str) -> dict[str, str]:
    """The environment of an engine subprocess: this test's DATABASE_URL / REDIS_URL / PROVIDER_URL ..."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def worker(env: dict[str, str], log_dir: Path, threads: int = 4) -> Proc:
    return Proc("worker", [str(BIN / "dramatiq"), "engine.actors", "--processes", "1", "--threads", str(threads)],
                env, log_dir)


def scheduler(env: dict[str, str], log_dir: Path) -> Proc:
    return Proc("scheduler", [sys.executable, "-m", "engine.scheduler"], env, log_dir)


def redis_missed(scheduler, timeout: float = 30.0) -> None:  # noqa: ANN001 — engine.scheduler.Scheduler
    """Wait until the engine has noticed Redis is gone: the in-process scheduler's tick fails to reach it. A fault
    test holds Redis down until then instead of for a fixed time (which a slow machine may not even reach)."""

    def missed() -> bool:
        try:
            scheduler.tick()
        except (redis.ConnectionError, redis.TimeoutError):
            return True
        return False

    wait_for(missed, timeout, what="the scheduler to find Redis gone")


def scheduler_ticks(r: redis.Redis, count: int, timeout: float = 30.0) -> None:
    """Wait until the scheduler process has finished `count` more ticks. Observed through its lease: the run loop
    renews it (its TTL jumps back up, or the key reappears) only after the previous tick returned."""
    from engine.scheduler import LEASE_KEY

    deadline = time.monotonic() + timeout
    renewals, last, seen = 0, None, False
    while renewals < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {count} scheduler ticks ({renewals} seen)")
        ttl = int(r.pttl(LEASE_KEY))
        if ttl > 0:
            if (last is not None and ttl > last) or (last is None and seen):
                renewals += 1
            last, seen = ttl, True
        else:
            last = None
        time.sleep(0.005)


def scheduler_in_process():  # noqa: ANN201 — engine.scheduler.Scheduler, imported late (binds the broker)
    """The scheduler object of this process, dispatching to the Redis the subprocess workers consume."""
    from engine import actors
    from engine.runtime.broker import redis_broker
    from engine.scheduler import Scheduler

    actors.rebind(redis_broker())
    return Scheduler(dispatch=actors.begin_round.send, resume=actors.resume_waiting, stall_s=3,
                     walk=lambda record, node, batch, resume: actors.run_batch.send(record, node, batch, resume))


def received(sim: Any) -> int:
    """Distinct messages the provider simulator has received."""
    return sim.simulator.snapshot()["unique"]


# ---------------------------------------------------------------- a small activity


def fault_flow(audience_id: int) -> dict[str, Any]:
    """Target Audience → Text SMS → Random Grouping 50/50 → APP PUSH → End / End: provider sends on two
    components (the simulator counts every message), a deterministic split between them."""
    def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("sms", "text_sms", content="Hi {name}"),
                      node("rg", "random_grouping", groups=[{"ratio": 50}, {"ratio": 50}]),
                      node("push", "app_push", title="Hi", body="Hello {name}"),
                      node("e1", "end"), node("e2", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "rg"},
                      {"source": "rg", "branch": "group_1", "target": "push"},
                      {"source": "rg", "branch": "group_2", "target": "e2"},
                      {"source": "push", "branch": "out", "target": "e1"}]}


def seed_activity(n: int, flow: Callable[[int], dict[str, Any]] = fault_flow, **activity: Any) -> tuple[int, int]:
    """n customers (every 50th without a phone), an audience of all, an activity published on `flow`.
    Returns (activity id, owner id). Deterministic: the same ids in every fresh database."""
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        rows = [{"qaid": f"F{i:05d}", "name": f"F{i}", "phone": None if i % 50 == 0 else f"+8613900{i:06d}",
                 "push_token": f"tok-{i}"} for i in range(n)]
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                          customer_ids=sorted(ids.values()))
        created = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Faults", **activity),
                                      flow=flow(audience.id))
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=created.id)
        return int(created.id), int(owner.id)


def records(activity_id: int) -> list[ExecutionRecord]:
    with read_session() as session:
        return list(session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)
                                 .order_by(ExecutionRecord.number)).all())


def persisted_counters(record_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    with read_session() as session:
        for row in session.exec(select(NodeCounter).where(NodeCounter.record_id == record_id)):
            out[row.node_id][row.metric] = row.value
    return dict(out)


def steps_of(record_id: int) -> list[Any]:
    """Every per-customer passage of a round (route entries and send rows, engine/runtime/details.py) as rows
    with CustomerStep's columns (node_id, customer_id, branch, result, reason, at)."""
    from engine.runtime.details import all_steps

    with read_session() as session:
        return all_steps(session, record_id)


def step_count(record_id: int) -> int:
    return len(steps_of(record_id))


def run_in_process(record_id: int) -> None:
    """The fault-free reference: start the round and walk every batch right here (no broker, no faults)."""
    from engine.runtime.connection import get_redis
    from engine.runtime.rounds import finish_if_done, start_round
    from engine.runtime.step import run_step
    from engine.runtime.store import RoundStore

    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
    for node, batch in batches:
        run_step(record_id, node, batch, store=store)
    finish_if_done(record_id, store=store)
    assert records_status(record_id) == RecordStatus.COMPLETED


def records_status(record_id: int) -> str:
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        return record.status if record else ""


def wait_for(condition: Callable[[], bool], timeout: float, *, tick: Callable[[], Any] | None = None,
             what: str = "the condition", interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            try:
                tick()
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass  # Redis restarting: the next tick tries again
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
