"""What a re-entry rule costs an audience round (issue 16): `engine.runtime.reentry.admit` over N customers on a
redis-server of its own (append-only file on, fsync every second, as the run command starts it).

    .venv/bin/python -m bench.reentry_admit                 # 1,000,000 customers
    .venv/bin/python -m bench.reentry_admit --customers 100000

Three passes of one activity with "once ever" and one live run at a time: round 1 lets everyone in, round 2
refuses everyone (once ever), round 1 again (a retried start) admits its own entrants. Prints wall seconds per
pass, customers per second and Redis's memory for the activity's state. An activity with the default rule runs
none of this (bench/throughput.py measures that path).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import redis

from engine.runtime import reentry
from engine.runtime.store import RoundStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    from tests.engine.channels.helpers import free_port
    from tests.redis_process import RedisProcess

    with tempfile.TemporaryDirectory() as work:
        server = RedisProcess(Path(work), free_port()).start()  # the run command's append-only Redis
        try:
            r = redis.Redis.from_url(server.url)
            store = RoundStore(r)
            rule = reentry.Rule(activity_id=1, mode=reentry.ONCE, days=0, one_live=True)
            ids = list(range(1, args.customers + 1))
            before = int(r.info("memory")["used_memory"])
            for label, record_id in (("round 1: everyone enters", 1), ("round 2: everyone refused (once ever)", 2),
                                     ("round 1 retried: its own entrants again", 1)):
                started = time.perf_counter()
                admitted = reentry.admit(store, rule, record_id, "t", ids, audience=True)
                took = time.perf_counter() - started
                print(f"{label:42s} {took:6.2f} s  {len(ids) / took:>10,.0f} customers/s  admitted {len(admitted):,}")
            used = int(r.info("memory")["used_memory"]) - before
            print(f"Redis memory for {len(ids):,} customers (entries, live runs, refusals): "
                  f"{used / 2**20:,.0f} MiB; machine: {os.cpu_count()} cores")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
