"""Profile the behaviour-event path without HTTP and Dramatiq: where an event's CPU goes, API side and worker side.

    .venv/bin/python -m bench.profile_events [--requests 1000] [--per-request 10] [--top 30]

The real peers (provider simulator, Redis) run as processes; this process plays the API (the events service's
ingest in a write session, whose commit runs the entry hook: open round, first entries, enqueue) and then the
worker (`run_step` of each batch the entry enqueued: load customers, Text SMS to the simulator, step rows,
counters), each under its own cProfile. Prints CPU µs per event for each side and the functions that take it.
`bench/latency.py` measures the same path end to end over HTTP."""

import argparse
import cProfile
import pstats
import time


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_events")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--per-request", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="CPU per event only, without the profilers")
    args = parser.parse_args()
    from bench.stack import Stack

    with Stack() as stack:
        from bench import seed

        total = args.requests * args.per_request
        ws, user = seed.workspace_and_user()
        seed.customers(ws, total + args.per_request, reachable=True)
        stack.start_services(workers=False, scheduler=False)
        from sqlmodel import col, select

        from engine.api.app import install_hooks
        from engine.db import read_session, write_session
        from engine.models import Customer, ExecutionRecord
        from engine.runtime.connection import get_redis
        from engine.runtime.rounds import start_round
        from engine.runtime.step import run_step
        from engine.runtime.store import RoundStore
        from engine.services import events

        activity = seed.publish(user, "Profile events", seed.event_flow("bench_click"))
        with read_session() as session:
            record_id = session.exec(select(ExecutionRecord.id).where(ExecutionRecord.activity_id == activity)).one()
            qaids = list(session.exec(select(Customer.qaid).where(Customer.workspace_id == ws)
                                      .order_by(col(Customer.id))))
        store = RoundStore(get_redis())
        start_round(record_id, enqueue=lambda r, n, b: None, store=store)
        batches: list[tuple[int, str, str]] = []
        import engine.actors

        engine.actors.enqueue_step = lambda r, n, b: batches.append((r, n, b))  # the hook enqueues here
        install_hooks()

        def post(chunk: list[str]) -> None:
            items = [{"qaid": q, "name": "bench_click", "properties": {"page": "/spring"}} for q in chunk]
            with write_session() as session:
                events.ingest(session=session, workspace_id=ws, events=items)

        chunks = [qaids[i:i + args.per_request] for i in range(0, total + args.per_request, args.per_request)]
        post(chunks[0])  # warm up: imports, caches, connections
        for r, n, b in batches:
            run_step(r, n, b, store=store)
        batches.clear()

        api = cProfile.Profile(time.process_time)  # CPU, not wall: robust on a busy machine
        cpu = time.process_time()
        if not args.no_profile:
            api.enable()
        for chunk in chunks[1:]:
            post(chunk)
        api.disable()
        api_cpu = time.process_time() - cpu
        walks = list(batches)
        worker = cProfile.Profile(time.process_time)
        cpu = time.process_time()
        if not args.no_profile:
            worker.enable()
        for r, n, b in walks:
            run_step(r, n, b, store=store)
        worker.disable()
        worker_cpu = time.process_time() - cpu
        print(f"{total:,} events in {args.requests:,} requests of {args.per_request}, {len(walks):,} walks "
              f"(profilers {'off' if args.no_profile else 'on'}): "
              f"API side {api_cpu / total * 1e6:.0f} µs CPU per event, "
              f"worker side {worker_cpu / total * 1e6:.0f} µs CPU per event")
        if args.no_profile:
            return
        print("\n== API side (ingest + entry), by own time")
        pstats.Stats(api).sort_stats("tottime").print_stats(args.top)
        print("\n== API side, cumulative")
        pstats.Stats(api).sort_stats("cumtime").print_stats(args.top)
        print("\n== worker side (run_step), by own time")
        pstats.Stats(worker).sort_stats("tottime").print_stats(args.top)
        print("\n== worker side, cumulative")
        pstats.Stats(worker).sort_stats("cumtime").print_stats(args.top)


if __name__ == "__main__":
    main()
