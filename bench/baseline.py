"""Benchmark 2: the obvious design (bench/naive_actors.py: one Dramatiq message per customer per component)
on the same flow, components and channels, on the same kind of stack (its own workers on the `naive` queue).

    .venv/bin/python -m bench.baseline --size 10000          # one size
    .venv/bin/python -m bench.throughput                      # runs it after the engine, and prints the ratio

`run_baseline(budget)` runs 10,000 customers, then the largest of 30k / 100k / 300k it expects to finish within
`budget` seconds at the rate it measured."""

import argparse
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.stack import Stack, fmt_bytes
from bench.throughput import DEPLOYMENT_ENV


def run_size(size: int, *, workers: int, threads: int, timeout: float) -> dict[str, Any]:
    from bench import seed

    with Stack(workers=workers, threads=threads, actors="bench.naive_actors", env=dict(DEPLOYMENT_ENV)) as stack:
        ws, user = seed.workspace_and_user()
        ids, audience = seed.customers(ws, size)
        stack.start_services(scheduler=False)  # no engine scheduler: nothing dispatches the engine's rounds
        from sqlmodel import select

        from engine.db import read_session
        from engine.models import ExecutionRecord
        from engine.runtime.connection import get_redis

        activity = seed.publish(user, f"Baseline {size}", seed.throughput_flow(audience, f"{stack.sink_url}/hook"))
        with read_session() as session:
            record_id = session.exec(select(ExecutionRecord.id).where(ExecutionRecord.activity_id == activity)).one()
        from bench.naive_actors import naive_step
        from engine.runtime.broker import redis_broker

        broker = redis_broker()  # this stack's Redis (an earlier run's broker points at a stopped one)
        naive_step.broker = broker
        broker.declare_actor(naive_step)
        r = get_redis()
        stack.mark_cpu()
        started = time.time()
        r.set(f"naive:left:{record_id}", len(ids))
        for cid in ids:  # the obvious design enqueues every customer of the audience
            naive_step.send(record_id, "t", cid)
        deadline = time.monotonic() + timeout
        done = None
        while time.monotonic() < deadline:
            done = r.get(f"naive:done:{record_id}")
            if done:
                break
            time.sleep(0.1)
        if not done:
            raise TimeoutError(f"the baseline did not finish {size:,} customers within {timeout:.0f}s")
        wall = float(done) - started
        counters = {k.decode().split(":")[-1]: {m.decode(): int(v) for m, v in r.hgetall(k).items()}
                    for k in r.keys(f"naive:c:{record_id}:*")}
        steps = sum(c.get("entered", 0) for c in counters.values())
        return {"size": size, "wall_s": wall, "customer_steps": steps, "steps_per_s": steps / wall,
                "cpu_s": stack.cpu_since_mark(), "peak_rss": stack.peak_rss(), "counters": counters,
                "sink": httpx.get(f"{stack.sink_url}/stats").json()}


def run_baseline(*, budget: float = 240, workers: int = 2, threads: int = 4) -> dict[str, Any]:
    first = run_size(10_000, workers=workers, threads=threads, timeout=budget * 2)
    print_run(first)
    best = first
    for size in (30_000, 100_000, 300_000):
        expected = size * first["customer_steps"] / first["size"] / first["steps_per_s"]
        if expected > budget:
            break
        best = run_size(size, workers=workers, threads=threads, timeout=budget * 2)
        print_run(best)
    return best


def print_run(r: dict[str, Any]) -> None:
    print(f"\n== baseline (one message per customer per component), {r['size']:,} customers: {r['wall_s']:.1f} s, "
          f"{r['customer_steps']:,} customer-steps, {r['steps_per_s']:,.0f} steps/s")
    print("   CPU s:   ", ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu_s"].items())))
    print("   peak RSS:", ", ".join(f"{k} {fmt_bytes(v)}" for k, v in sorted(r["peak_rss"].items())))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print_run(run_size(args.size, workers=args.workers, threads=args.threads, timeout=args.timeout))


if __name__ == "__main__":
    main()
