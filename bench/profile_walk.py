"""Profile the hot path without Dramatiq: the real peers (simulator, SMTP sink, API, webhook sink) run as
processes, this process walks the throughput flow's batches itself under a profiler.

    .venv/bin/python -m bench.profile_walk [--customers 20000] [--profiler cprofile|pyinstrument] [--top 40]

Prints the time per customer-step and the functions that take it (cProfile: by own time; pyinstrument: the
call tree)."""

import argparse
import cProfile
import pstats
import time

from bench.stack import Stack
from bench.throughput import DEPLOYMENT_ENV


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_walk")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument", "none"), default="cprofile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime, cumulative, ...")
    parser.add_argument("--dump", default="", help="cProfile: also save the raw stats to this file (pstats)")
    args = parser.parse_args()
    with Stack(env=dict(DEPLOYMENT_ENV)) as stack:
        from bench import seed

        ws, user = seed.workspace_and_user()
        _, audience = seed.customers(ws, args.customers)
        stack.start_services(workers=False, scheduler=False)
        from sqlmodel import select

        from engine.db import read_session
        from engine.models import ExecutionRecord
        from engine.runtime.connection import get_redis
        from engine.runtime.rounds import finish_if_done, start_round
        from engine.runtime.step import run_step
        from engine.runtime.store import RoundStore

        activity = seed.publish(user, "Profile", seed.throughput_flow(audience, f"{stack.sink_url}/hook"))
        with read_session() as session:
            record_id = session.exec(select(ExecutionRecord.id).where(ExecutionRecord.activity_id == activity)).one()
        store = RoundStore(get_redis())
        batches: list[tuple[str, str]] = []
        start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
        node, first = batches[0]
        run_step(record_id, node, first, store=store)  # warm up: imports, connections, caches
        from engine.runtime import gc_tuning

        gc_tuning.tune()  # the collector as a worker process runs it (engine/actors.py)
        rest = batches[1:]
        profiler = None
        if args.profiler == "cprofile":
            profiler = cProfile.Profile()
            profiler.enable()
        elif args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        from collections import defaultdict

        from engine.runtime import step as step_module

        per_node: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        original_step, original_finish = step_module.Walk._step, step_module.Walk.finish

        def timed_step(walk, node_id, ids):  # noqa: ANN001, ANN202
            t0, c0 = time.perf_counter(), time.process_time()
            outcome = original_step(walk, node_id, ids)
            entry = per_node[walk.plan.graph.node(node_id)["type"]]
            entry[0] += time.perf_counter() - t0
            entry[1] += time.process_time() - c0
            entry[2] += len(ids)
            return outcome

        def timed_finish(walk):  # noqa: ANN001, ANN202
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return original_finish(walk)
            finally:
                entry = per_node["(write steps + counters)"]
                entry[0] += time.perf_counter() - t0
                entry[1] += time.process_time() - c0
                entry[2] += len(walk.members)

        step_module.Walk._step, step_module.Walk.finish = timed_step, timed_finish
        t, cpu = time.perf_counter(), time.process_time()
        for node, batch in rest:
            run_step(record_id, node, batch, store=store)
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
        if args.profiler == "cprofile":
            profiler.disable()
        elif args.profiler == "pyinstrument":
            profiler.stop()
        finish_if_done(record_id, store=store)
        counters = store.counters(record_id)
        steps = sum(m.get("entered", 0) for m in counters.values())
        walked = steps * len(rest) / max(1, len(batches))
        print(f"{len(rest)} batches, ~{walked:,.0f} customer-steps in {elapsed:.2f} s (profiler on): "
              f"{elapsed / walked * 1e6:.1f} µs per customer-step, "
              f"{elapsed / (args.customers * len(rest) / len(batches)) * 1e6:.0f} µs per customer; CPU "
              f"{cpu / (args.customers * len(rest) / len(batches)) * 1e6:.0f} µs per customer")
        print("per component type: wall µs / CPU µs per customer passing it (customers)")
        for name, (wall, cpu_s, n) in sorted(per_node.items(), key=lambda kv: -kv[1][1]):
            print(f"   {name:28s} {wall / n * 1e6:7.1f} {cpu_s / n * 1e6:7.1f}  ({n:,})")
        if args.profiler == "cprofile":
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
            if args.dump:
                profiler.dump_stats(args.dump)
        elif args.profiler == "pyinstrument":
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
