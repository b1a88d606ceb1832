"""Benchmark 3: two storage floors — the raw storage work of N customers through the benchmark flow, without
the engine.

    .venv/bin/python -m bench.floor --customers 1000000          # 7 customer-steps and 2 sends per customer

- **The project's own tables** (`tables`): what a walk stores, written as a walk writes it (the runtime's own
  functions, one transaction per walk of 2,000 customers): one `customerroute` row per customer holding the
  route of the benchmark flow's non-sending components and one `customerstep` row per send, each group of rows
  that share all but the customer one `INSERT … SELECT … FROM json_each(?)` (engine/runtime/sql.py
  `insert_ignore_grouped`, details.py `insert_route_groups`), and one Redis hash field per send (the send's
  result, HSET of 1,000 fields, 50 commands per pipeline, as the send-result scripts keep them).
- **The minimal floor** (`minimal`): one narrow row per customer-step (record, node, customer: no key, no
  index) in transactions of 14,000 rows, and one Redis counter (HINCRBY) per batch of 2,000 customers.

Both on a migrated SQLite database (WAL, `synchronous=NORMAL` like the engine). Rates are customer-steps per
second; bench/throughput.py divides the engine's rate by both."""

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.stack import Stack

NODES = ["t", "tj", "rg", "touch", "rj", "hook", "end"]
SENDS = ("touch", "hook")
BATCH = 2_000


def _record(stack: Stack) -> int:
    from bench import seed

    _, user = seed.workspace_and_user()
    activity = seed.publish(user, "Floor", {"nodes": [seed.node("t", "target_audience", audience_id=1),
                                                      seed.node("e", "end")],
                                            "edges": [seed.edge("t", "e")]})
    from sqlmodel import select

    from engine.db import read_session
    from engine.models import ExecutionRecord

    with read_session() as session:
        return int(session.exec(select(ExecutionRecord.id).where(ExecutionRecord.activity_id == activity)).one())


def own_tables(record_id: int, customers: int, sends_per_customer: int) -> dict[str, float]:
    """The engine's storage of `customers` walked customers: route rows + send rows + send-result fields."""
    from engine import clock
    from engine.components.base import Outcome
    from engine.runtime.connection import get_redis
    from engine.runtime.details import STEP_COLUMNS, STEP_TABLE, Routes, insert_route_groups
    from engine.runtime.sql import insert_ignore_grouped, runtime_write
    from engine.runtime.step import step_time

    at = step_time(clock.now())
    routing = [n for n in NODES if n not in SENDS]
    sends = list(SENDS)[:sends_per_customer]
    t = time.perf_counter()
    for start in range(0, customers, BATCH):
        ids = list(range(start, min(start + BATCH, customers)))
        routes = Routes()
        for node in routing:  # what the walk's route bookkeeping costs too (it is the runtime's write path)
            routes.add(node, ids, Outcome(routes={"out": ids}) if node != "end" else Outcome())
        steps = {(record_id, node, "out", "pending", None, at): ids for node in sends}  # rows sharing all but the id
        with runtime_write() as session:  # as a walk writes (engine/runtime/step.py `Walk.flush_db`)
            insert_ignore_grouped(session, STEP_TABLE, STEP_COLUMNS, "customer_id", steps)
            insert_route_groups(session, routes.groups(record_id, "t", at))
    db_s = time.perf_counter() - t
    r = get_redis()
    t = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    total = customers * len(sends)
    for n in range(0, total, 1000):
        pipe.hset(f"floor:{n // 1_000_000}", mapping={str(n + i): "pending" for i in range(min(1000, total - n))})
        if (n // 1000) % 50 == 49:
            pipe.execute()
    pipe.execute()
    return {"db_s": db_s, "redis_s": time.perf_counter() - t}


def minimal(record_id: int, steps: int, *, rows_per_transaction: int = 14_000) -> dict[str, float]:
    """One narrow row per customer-step and one Redis counter per batch of 2,000 customers."""
    from engine.db import write_session
    from engine.runtime.connection import get_redis

    with write_session() as session:
        session.connection().exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS floorstep (record_id INTEGER, node_id TEXT, customer_id INTEGER)")
    per_node = rows_per_transaction // len(NODES)
    r = get_redis()
    t = time.perf_counter()
    written = customer = 0
    while written < steps:
        rows = [(record_id, node, c) for node in NODES for c in range(customer, customer + per_node)]
        customer += per_node
        with write_session() as session:
            cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany("INSERT INTO floorstep (record_id, node_id, customer_id) VALUES (?, ?, ?)", rows)
            cursor.close()
        written += len(rows)
    db_s = time.perf_counter() - t
    t = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    for batch in range(0, max(customer, 1), BATCH):
        pipe.hincrby("floor:counter", f"b{batch}", BATCH)
    pipe.execute()
    return {"db_s": db_s, "redis_s": time.perf_counter() - t}


def storage_floors(customers: int, *, steps_per_customer: float = 7.0,
                   sends_per_customer: int = 2) -> dict[str, Any]:
    """Both floors for `customers` customers (customer-steps = customers × steps_per_customer)."""
    steps = int(customers * steps_per_customer)
    with Stack() as stack:
        record_id = _record(stack)
        tables = own_tables(record_id, customers, sends_per_customer)
        floor = minimal(record_id, steps)
    out: dict[str, Any] = {"customers": customers, "steps": steps}
    for name, part in (("tables", tables), ("minimal", floor)):
        total = part["db_s"] + part["redis_s"]
        out[name] = {**part, "steps_per_s": steps / total if total else 0.0}
    return out


def describe(floors: dict[str, Any]) -> list[str]:
    t, m = floors["tables"], floors["minimal"]
    return [f"own tables: SQLite {t['db_s']:.1f} s + Redis {t['redis_s']:.1f} s = {t['steps_per_s']:,.0f} "
            "customer-steps/s (route row per customer, step row per send)",
            f"minimal:    SQLite {m['db_s']:.1f} s + Redis {m['redis_s']:.1f} s = {m['steps_per_s']:,.0f} "
            "customer-steps/s (narrow row per customer-step, counter per batch)"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.customers:,} customers")
    for line in describe(storage_floors(args.customers)):
        print("  ", line)


if __name__ == "__main__":
    main()
