"""The rule builder's estimate over a million customers: a 5-condition rule (tags, an attribute, a profile
column and a behaviour event), `engine.services.audiences.estimate_rule` (the count and a 5-customer sample),
timed 20 times after one warm-up read. Target: p95 ≤ 500 ms on SQLite.

    .venv/bin/python -m bench.audience_estimate                    # 1,000,000 customers, a few minutes to seed
    .venv/bin/python -m bench.audience_estimate --customers 100000

A temporary SQLite database (migrated, then seeded with bench/seed.py's customers: tags `level` and `city`,
attributes `age` and `spend`) and one purchase event in the last 60 days for a third of the customers.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULE = {"all": [
    {"field": "tag:level", "op": "in", "value": ["vip", "gold"]},
    {"field": "attr:age", "op": "gte", "value": 30},
    {"any": [{"field": "tag:city", "op": "eq", "value": "Shanghai"}, {"field": "email", "op": "contains",
                                                                      "value": "7@"}]},
    {"field": "event:purchase", "op": "did", "value": {"times": 1, "days": 30}},
]}


def _events(db: str, ids: list[int], workspace_id: int) -> int:
    rng = random.Random(2)
    now = datetime.now(UTC)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    rows = [(workspace_id, cid, "purchase", "{}",
             (now - timedelta(days=rng.uniform(0, 60))).strftime("%Y-%m-%d %H:%M:%S.%f"),
             now.strftime("%Y-%m-%d %H:%M:%S.%f")) for cid in ids if rng.random() < 1 / 3]
    con.executemany("INSERT INTO behaviorevent (workspace_id, customer_id, name, properties, occurred_at, "
                    "received_at) VALUES (?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="audience-bench-", dir=ROOT / "tmp"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"

    from bench import seed
    from engine.db import read_session
    from engine.migrate import upgrade_to_head
    from engine.models import User
    from engine.services.audiences import estimate_rule

    upgrade_to_head()
    started = time.perf_counter()
    ws, user_id = seed.workspace_and_user()
    ids, _ = seed.customers(ws, args.customers)
    events = _events(seed.db_path(), ids, ws)
    print(f"seeded {len(ids):,} customers and {events:,} purchase events in {time.perf_counter() - started:.1f} s")
    times: list[float] = []
    size = 0
    with read_session() as session:
        actor = session.get(User, user_id)
        assert actor is not None
        for i in range(args.runs + 1):
            t0 = time.perf_counter()
            est = estimate_rule(session=session, actor=actor, rule=RULE)
            if i:  # the first read warms the page cache
                times.append((time.perf_counter() - t0) * 1000)
            size = est.size
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"rule: {RULE}")
    print(f"estimate over {len(ids):,} customers: size {size:,}; median {statistics.median(times):.0f} ms, "
          f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms ({args.runs} runs); target p95 <= 500 ms: "
          f"{'met' if p95 <= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
