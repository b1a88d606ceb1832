"""What pacing (issue 16) adds to a walk that reaches a paced touch: the send-window split (pure Python, one
zone offset per distinct zone) and the rate limit's reservation (one Lua call per batch, whatever its size).

    python -m bench.pacing_costs                      # 1,000,000 customers in 10 zones; 1,000 reservations
    python -m bench.pacing_costs --customers 100000 --batches 200

Starts its own redis-server on a free port (no persistence) and stops it at the end. A touch without pacing
costs one in-process cache look-up per walk (engine/runtime/pacing.py `rules_for`) and no Redis round trip.
"""

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.components.base import CustomerView  # noqa: E402
from engine.runtime.rate_limit import RateLimiter  # noqa: E402
from engine.runtime.send_window import split  # noqa: E402

ZONES = ["Asia/Tokyo", "UTC", "America/New_York", "Europe/Paris", "Asia/Shanghai", "Australia/Sydney",
         "Asia/Kolkata", "America/Los_Angeles", "Africa/Cairo", "Europe/London"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    customers = [CustomerView(i, "", timezone=ZONES[i % len(ZONES)]) for i in range(args.customers)]
    started = time.perf_counter()
    split((9 * 60, 21 * 60), datetime(2026, 12, 7, 20, 0, tzinfo=UTC), customers, "UTC")
    took = time.perf_counter() - started
    print(f"send-window split: {took:.3f} s for {args.customers:,} customers "
          f"({took * 1e6 / args.customers:.2f} µs per customer)")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp()
    exe = shutil.which("redis-server") or "redis-server"
    server = subprocess.Popen([exe, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        limiter = RateLimiter(r)
        limits = [("a1", 100_000), ("c1:text_sms", 200_000)]
        started = time.perf_counter()
        for i in range(args.batches):
            limiter.reserve(record_id=1, node_id="sms", batch=f"b{i}", n=args.batch_size, minute=1000, limits=limits)
        took = time.perf_counter() - started
        print(f"rate-limit reservation: {took * 1000 / args.batches:.3f} ms per batch of {args.batch_size:,} "
              f"({args.batches:,} batches under 100,000 / 200,000 per minute)")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
