"""Benchmark 1 (+2 and 3): audience throughput on the real stack.

    .venv/bin/python -m bench.throughput                      # 10k, 100k, 1M, then the baseline and the floor
    .venv/bin/python -m bench.throughput --sizes 10000 --no-baseline --no-floor

For each size a fresh stack (bench/stack.py: redis-server, SMTP sink, simulator, API, webhook sink, Dramatiq
workers, scheduler) runs the issue's flow (bench/seed.py `throughput_flow`) over a generated base: publish →
record Completed wall time, customer-steps per second, peak RSS and CPU seconds per process, and the
counters. Then, in the same run, the obvious design (bench/baseline.py: one Dramatiq message per customer
per component) on the largest audience it finishes within the time budget, and the two storage floors
(bench/floor.py: the project's own tables, and one narrow row per customer-step + one Redis counter per
batch) for the volume of the largest engine run, with the engine's rate as a ratio to each.
"""

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import caps, rules
from bench.stack import Stack, fmt_bytes, machine

#: what a real deployment sets: webhook receivers take JSON arrays of 500 customers per POST (a CRM's bulk
#: endpoint); an SMTP relay takes 100 envelope recipients per transaction (RFC 5321's minimum) over 16 parallel
#: connections (see docs/BENCHMARKS.md)
#: the benchmark flow's sending components (bench/seed.py `throughput_flow`)
SEND_NODES = ("sms", "mail", "push", "hook")
DEPLOYMENT_ENV = {"WEBHOOK_BATCH_SIZE": "500", "SMTP_MAX_RECIPIENTS": "100", "SMTP_CONCURRENCY": "16"}


def wait_completed(activity_id: int, timeout: float, progress: Any = None) -> tuple[Any, float]:
    from sqlmodel import select

    from engine.db import read_session
    from engine.models import ExecutionRecord
    from engine.status import RecordStatus

    deadline = time.monotonic() + timeout
    started = last = time.monotonic()
    while time.monotonic() < deadline:
        with read_session() as session:
            record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).first()
            if record is not None and record.status != RecordStatus.IN_PROGRESS:
                return record, time.monotonic()
        if progress is not None and record is not None and time.monotonic() - last >= 5:
            last = time.monotonic()
            progress(record.id, last - started)
        time.sleep(0.05)
    raise TimeoutError(f"the record of activity {activity_id} did not complete within {timeout:.0f}s")


def counters_of(record_id: int) -> dict[str, dict[str, int]]:
    from sqlmodel import select

    from engine.db import read_session
    from engine.models import NodeCounter

    out: dict[str, dict[str, int]] = {}
    with read_session() as session:
        for row in session.exec(select(NodeCounter).where(NodeCounter.record_id == record_id)):
            out.setdefault(row.node_id, {})[row.metric] = row.value
    return out


def redis_client() -> Any:
    from engine.runtime.connection import get_redis

    return get_redis()


def redis_commands() -> list[tuple[str, int, int]]:
    """Redis's own CPU by command since the run's mark (INFO commandstats): where the Redis CPU-s go."""
    stats = redis_client().info("commandstats")
    rows = [(name.removeprefix("cmdstat_"), int(v["usec"]), int(v["calls"])) for name, v in stats.items()]
    return sorted(rows, key=lambda r: -r[1])


def run_engine(size: int, *, workers: int, threads: int, timeout: float, keep: bool = False,
               profile: str | None = None, verbose: bool = False, cap: bool = False, window: bool = False,
               goal: bool = False) -> dict[str, Any]:
    from bench import seed

    env = dict(DEPLOYMENT_ENV)
    with Stack(workers=workers, threads=threads, env=env, keep=keep) as stack:
        ws, user = seed.workspace_and_user()
        if cap:
            caps.switch_on(ws)
        t = time.perf_counter()
        _, audience = seed.customers(ws, size)
        seeded = time.perf_counter() - t
        stack.start_services()
        if profile:
            stack.profile_workers(profile)
        stack.mark_cpu()
        redis_client().config_resetstat()
        started = datetime.now(UTC)
        t0 = time.monotonic()
        activity = seed.publish(user, f"Throughput {size}", seed.throughput_flow(audience, f"{stack.sink_url}/hook"),
                                **rules.settings(window=window, goal_on=goal))
        def progress(record_id: int, elapsed: float) -> None:
            from engine.runtime.connection import get_redis

            r = get_redis()
            cpu = stack.cpu_since_mark()
            print(f"   {elapsed:5.0f} s: {r.scard(f'pending:{record_id}')} batches pending, queue "
                  f"{r.llen('dramatiq:steps')}, CPU s " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(cpu.items())),
                  flush=True)

        record, t1 = wait_completed(activity, timeout, progress if verbose else None)
        wall = (record.ended_at.replace(tzinfo=UTC) - started).total_seconds() if record.ended_at else t1 - t0
        first_walk = first_walk_after(record.id, started)
        counters = counters_of(record.id)
        cpu = stack.cpu_since_mark()
        rss = stack.peak_rss()
        redis_cmds = redis_commands()
        steps = sum(c.get("entered", 0) for c in counters.values())
        sink = httpx.get(f"{stack.sink_url}/stats").json()
        sim = httpx.get(f"{stack.env['PROVIDER_URL']}/admin/stats").json()
        if profile:
            stack.stop_profiles()
        histories = caps.histories(ws) if cap else 0
        return {"size": size, "status": str(record.status), "failure": record.failure_reason, "wall_s": wall,
                "customer_steps": steps, "steps_per_s": steps / wall if wall else 0.0, "seed_s": seeded,
                "peak_rss": rss, "cpu_s": cpu, "counters": counters, "sink": sink, "redis_commands": redis_cmds,
                "simulator": {k: sim[k] for k in ("unique", "duplicates", "receipts_sent")},
                "first_walk_s": first_walk, "workers": f"{workers}x{threads}",
                "dir": str(stack.dir) if keep else None, "cap": cap,
                "cap_histories": histories, "window": window, "goal": goal, "rules": rules.describe(activity)}


def first_walk_after(record_id: int, published: datetime) -> float | None:
    """Seconds from publish to the first walk's time (its route rows' `at`): the start-up before any customer
    moves (the scheduler's tick, reading the audience, queueing the batches)."""
    from sqlmodel import func, select

    from engine.db import read_session
    from engine.models import CustomerRoute

    with read_session() as session:
        first = session.exec(select(func.min(CustomerRoute.at)).where(CustomerRoute.record_id == record_id)).one()
    return (first.replace(tzinfo=UTC) - published).total_seconds() if first else None


def print_run(r: dict[str, Any]) -> None:
    on = [k for k, label in (("cap", "frequency caps"), ("window", "send window"), ("goal", "goal")) if r.get(k)]
    capped = f", {' + '.join(on)} on" if on else ""
    print(f"\n== {r['size']:,} customers ({r['workers']} workers{capped}): {r['status']} in {r['wall_s']:.1f} s — "
          f"{r['customer_steps']:,} customer-steps, {r['steps_per_s']:,.0f} steps/s (seeding {r['seed_s']:.1f} s)")
    if r["failure"]:
        print("   failure:", r["failure"])
    if r.get("first_walk_s") is not None:
        print(f"   first walk {r['first_walk_s']:.2f} s after publish")
    print("   peak RSS:", ", ".join(f"{k} {fmt_bytes(v)}" for k, v in sorted(r["peak_rss"].items())))
    print("   CPU s:   ", ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu_s"].items())))
    print("   Redis CPU by command (s, calls):", ", ".join(
        f"{name} {usec / 1e6:.1f} ({calls:,})" for name, usec, calls in r.get("redis_commands", [])[:8]))
    print("   webhook sink:", r["sink"], " simulator:", r["simulator"])
    if r.get("cap"):
        print(f"   frequency caps: {r['cap_histories']:,} customer histories in Redis")
    print(f"   activity settings: {r['rules']}")
    for node_id, metrics in sorted(r["counters"].items()):
        shown = {k: v for k, v in sorted(metrics.items()) if v}
        print(f"   {node_id:8s} {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--baseline-budget", type=float, default=240, help="seconds the baseline may take")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (logs, DB)")
    parser.add_argument("--profile", help="py-spy each worker process into this directory")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--verbose", action="store_true", help="print progress every 5 s")
    parser.add_argument("--cap", action="store_true", help="switch the workspace's frequency caps on (bench/caps.py)")
    parser.add_argument("--window", action="store_true", help="give the activity a send window (bench/rules.py)")
    parser.add_argument("--goal", action="store_true", help="a goal, exit on goal (bench/rules.py)")
    args = parser.parse_args()
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram_gib']} GiB RAM, Python {info['python']}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    results: dict[str, Any] = {"machine": info, "date": datetime.now(UTC).isoformat(), "runs": []}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        run = run_engine(size, workers=args.workers, threads=args.threads, timeout=args.timeout, keep=args.keep,
                         profile=args.profile, verbose=args.verbose, cap=args.cap,
                         window=args.window, goal=args.goal)
        results["runs"].append(run)
        print_run(run)
    runs = results["runs"]
    print("\n== summary")
    for r in runs:
        worst = max((v for k, v in r["peak_rss"].items() if k.startswith("workers[")), default=0)
        print(f"   {r['size']:>9,} customers: {r['wall_s']:6.1f} s, {r['steps_per_s']:>9,.0f} customer-steps/s, "
              f"peak RSS per worker process ≤ {fmt_bytes(worst)}")
    if not args.no_baseline and runs:
        from bench.baseline import run_baseline

        base = run_baseline(budget=args.baseline_budget, workers=args.workers, threads=args.threads)
        results["baseline"] = base
        same = next((r for r in runs if r["size"] == base["size"]), None)
        if same is None:
            same = run_engine(base["size"], workers=args.workers, threads=args.threads, timeout=args.timeout)
            print_run(same)
        ratio = same["steps_per_s"] / base["steps_per_s"] if base["steps_per_s"] else float("inf")
        results["ratio"] = ratio
        print(f"\n== against the obvious design (one Dramatiq message per customer per component), "
              f"{base['size']:,} customers: baseline {base['wall_s']:.1f} s = {base['steps_per_s']:,.0f} "
              f"customer-steps/s; engine {same['wall_s']:.1f} s = {same['steps_per_s']:,.0f} customer-steps/s; "
              f"ratio {ratio:.1f}x")
    if not args.no_floor and runs:
        from bench.floor import describe, storage_floors

        largest = max(runs, key=lambda r: r["size"])
        sends = sum(m.get("entered", 0) for n, m in largest["counters"].items() if n in SEND_NODES)
        floors = storage_floors(largest["size"], steps_per_customer=largest["customer_steps"] / largest["size"],
                                sends_per_customer=round(sends / largest["size"]))
        results["floors"] = floors
        rate = largest["steps_per_s"]
        results["floor_ratios"] = {k: rate / floors[k]["steps_per_s"] for k in ("tables", "minimal")}
        print(f"\n== against the storage floors ({largest['size']:,} customers, {floors['steps']:,} customer-steps)")
        for line in describe(floors):
            print("  ", line)
        print(f"   engine {rate:,.0f} customer-steps/s = {results['floor_ratios']['tables']:.2f} x the own-tables "
              f"floor, {results['floor_ratios']['minimal']:.2f} x the minimal floor")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
