"""Benchmark 3: the storage floor — the raw storage work of N customer-steps, without the engine.

    .venv/bin/python -m bench.floor --steps 7000000

Per customer-step: one row of the real `customerstep` table (same schema and indexes, a migrated SQLite
database, WAL, `synchronous=NORMAL` like the engine), inserted with the raw DBAPI `executemany` in transactions
of 14,000 rows (what a walk of 2,000 customers through 7 components writes); and one Redis hash field,
written with HSET of 1,000 fields, 50 commands per pipeline. The engine's rate divided by this rate is the
share of the floor it reaches (bench/throughput.py prints it for its largest run)."""

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.stack import Stack


def storage_floor(steps: int, *, rows_per_transaction: int = 14_000) -> dict[str, Any]:
    with Stack() as stack:
        from bench import seed

        _, user = seed.workspace_and_user()
        activity = seed.publish(user, "Floor", {"nodes": [seed.node("t", "target_audience", audience_id=1),
                                                          seed.node("e", "end")],
                                                "edges": [seed.edge("t", "e")]})
        from sqlmodel import select

        from engine import clock
        from engine.db import read_session, write_session
        from engine.models import ExecutionRecord
        from engine.runtime.connection import get_redis
        from engine.runtime.step import insert_steps, step_time

        with read_session() as session:
            record_id = session.exec(select(ExecutionRecord.id).where(ExecutionRecord.activity_id == activity)).one()
        nodes = ["t", "tj", "rg", "touch", "rj", "hook", "end"]
        per_node = rows_per_transaction // len(nodes)
        at = step_time(clock.now())

        t = time.perf_counter()
        written, customer = 0, 0
        while written < steps:
            rows = [(record_id, node, c, "out", "passed", None, at)
                    for node in nodes for c in range(customer, customer + per_node)]
            customer += per_node
            with write_session() as session:
                insert_steps(session, rows)
            written += len(rows)
        db_s = time.perf_counter() - t

        r = get_redis()
        t = time.perf_counter()
        pipe = r.pipeline(transaction=False)
        field = 0
        for n in range(0, steps, 1000):
            pipe.hset(f"floor:{n // 1_000_000}", mapping={str(field + i): "pending" for i in range(1000)})
            field += 1000
            if (n // 1000) % 50 == 49:
                pipe.execute()
        pipe.execute()
        redis_s = time.perf_counter() - t
        _ = stack
    return {"steps": steps, "db_s": db_s, "redis_s": redis_s, "steps_per_s": steps / (db_s + redis_s),
            "db_rows_per_s": written / db_s, "redis_fields_per_s": steps / redis_s}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--steps", type=int, default=7_000_000)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    floor = storage_floor(args.steps)
    print(f"{floor['steps']:,} customer-steps: SQLite {floor['db_s']:.1f} s ({floor['db_rows_per_s']:,.0f} rows/s) "
          f"+ Redis {floor['redis_s']:.1f} s ({floor['redis_fields_per_s']:,.0f} fields/s) = "
          f"{floor['steps_per_s']:,.0f} customer-steps/s")


if __name__ == "__main__":
    main()
