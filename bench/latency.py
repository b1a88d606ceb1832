"""Benchmark 4: event latency on the real stack.

    .venv/bin/python -m bench.latency [--rate 1000] [--seconds 60] [--per-request 10]

An event-triggered activity (Behaviour Event → Text SMS → End) is In Progress; behaviour events of distinct
customers are POSTed to the API at `--rate` per second for `--seconds` (`--per-request` events per request,
requests evenly spaced). For each event: the time it was sent to the API → the time the provider simulator
received its SMS (the simulator records a receive time per message id; the id names the customer). Prints
p50/p95/p99/max and the events lost (accepted by the API, no SMS at the provider 15 s after the last one)."""

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.stack import Stack, fmt_bytes


def run_latency(*, rate: int, seconds: float, per_request: int, workers: int, threads: int,
                worker_timeout_ms: int = 50) -> dict[str, Any]:
    from bench import seed

    total = int(rate * seconds)
    with Stack(workers=workers, threads=threads, worker_timeout_ms=worker_timeout_ms) as stack:
        ws, user = seed.workspace_and_user()
        ids, _ = seed.customers(ws, total, reachable=True)
        stack.start_services()
        activity = seed.publish(user, "Latency", seed.event_flow("bench_click"))
        from sqlmodel import select

        from engine.db import read_session
        from engine.models import ExecutionRecord

        record_id = None
        deadline = time.monotonic() + 30
        while record_id is None and time.monotonic() < deadline:  # the scheduler dispatched the open round
            with read_session() as session:
                record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity)).first()
                if record is not None and record.dispatched_at is not None:
                    record_id = record.id
            time.sleep(0.05)
        assert record_id is not None, "the round was not dispatched"
        api = f"http://127.0.0.1:{stack.ports['api']}/api/v1/events"
        headers = {"Authorization": f"Bearer {seed.API_KEY}"}
        sent_at: dict[int, float] = {}
        posts: list[float] = []
        refused = 0
        interval = per_request / rate
        chunks = [ids[first:first + per_request] for first in range(0, total, per_request)]
        lock = threading.Lock()
        local = threading.local()

        def post(chunk: list[int]) -> None:
            nonlocal refused
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=30)
            events = [{"qaid": f"B{cid:07d}", "name": "bench_click", "properties": {"n": cid}} for cid in chunk]
            now = time.time()
            response = client.post(api, json={"events": events}, headers=headers)
            took = (time.time() - now) * 1000
            with lock:
                posts.append(took)
                if response.status_code == 202:
                    for cid in chunk:
                        sent_at[cid] = now
                else:
                    refused += len(chunk)

        stack.mark_cpu()
        # requests leave on a fixed schedule; a few senders, so a slow answer does not delay the next request
        with ThreadPoolExecutor(8) as pool:
            start = time.monotonic()
            futures = []
            for n, chunk in enumerate(chunks):
                pause = start + n * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                futures.append(pool.submit(post, chunk))
            for future in futures:
                future.result()
            sending = time.monotonic() - start
        sim = f"http://127.0.0.1:{stack.ports['simulator']}"
        received: dict[int, float] = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            page = httpx.get(f"{sim}/admin/messages", params={"prefix": f"{record_id}:sms:", "limit": total + 10},
                             timeout=60).json()
            received = {int(m["customer_id"]): float(m["received_at"]) for m in page["messages"]}
            if len(received) >= len(sent_at):
                break
            time.sleep(1)
        latencies = sorted((received[c] - t) * 1000 for c, t in sent_at.items() if c in received)
        lost = sum(1 for c in sent_at if c not in received)
        return {"events": total, "accepted": len(sent_at), "refused": refused, "lost": lost,
                "sending_s": sending, "achieved_rate": total / sending, "latencies_ms": latencies,
                "post_ms": sorted(posts),
                "duplicates": httpx.get(f"{sim}/admin/stats").json()["duplicates"],
                "cpu_s": stack.cpu_since_mark(), "peak_rss": stack.peak_rss()}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--per-request", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-timeout", type=int, default=50,
                        help="ms an idle Dramatiq consumer waits at most between polls (ENGINE_POLL_MS)")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    r = run_latency(rate=args.rate, seconds=args.seconds, per_request=args.per_request, workers=args.workers,
                    threads=args.threads, worker_timeout_ms=args.worker_timeout)
    lat = r["latencies_ms"]
    print(f"\n== event latency: {r['events']:,} events in {r['sending_s']:.1f} s ({r['achieved_rate']:,.0f}/s, "
          f"{args.per_request} per request): accepted {r['accepted']:,}, refused {r['refused']}, lost {r['lost']}, "
          f"duplicates at the provider {r['duplicates']}")
    print(f"   event sent → SMS at the provider: p50 {percentile(lat, 0.5):.0f} ms, "
          f"p95 {percentile(lat, 0.95):.0f} ms, p99 {percentile(lat, 0.99):.0f} ms, "
          f"max {max(lat) if lat else float('nan'):.0f} ms, "
          f"mean {statistics.fmean(lat) if lat else float('nan'):.0f} ms")
    post = r["post_ms"]
    print(f"   API answer (202) time: p50 {percentile(post, 0.5):.0f} ms, p99 {percentile(post, 0.99):.0f} ms")
    print("   CPU s:   ", ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu_s"].items())))
    print("   peak RSS:", ", ".join(f"{k} {fmt_bytes(v)}" for k, v in sorted(r["peak_rss"].items())))


if __name__ == "__main__":
    main()
