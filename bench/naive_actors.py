"""The obvious design, for comparison (bench/baseline.py): one Dramatiq message per customer per component.

Run as the workers of the baseline stack: `dramatiq bench.naive_actors --processes 2 --threads 4`.

Each message carries (record, node, customer). The worker loads that customer, runs the same component
executor with the same ports and channels as the engine (RuntimePorts: the same send dedupe, the same SMTP,
webhook and provider adapters), writes the customer's step row, increments the component's counters, and
sends one message per customer to each next component. A Redis counter of messages not yet done tells the
worker that finishes the last one to mark the round done (`naive:done:{record}` = time)."""

import time
from typing import Any

import dramatiq

from engine import clock
from engine.components.base import Batch, CustomerView
from engine.db import read_session, write_session
from engine.runtime.broker import broker  # noqa: F401  (the Redis broker from REDIS_URL)
from engine.runtime.connection import get_redis
from engine.runtime.customers import load_views
from engine.runtime.ports import RuntimePorts
from engine.runtime.step import insert_steps, metrics_for, round_context, step_time
from engine.runtime.store import RoundStore

_contexts: dict[int, Any] = {}


def _context(record_id: int) -> Any:
    ctx = _contexts.get(record_id)
    if ctx is None:
        ctx = _contexts[record_id] = round_context(record_id)
    return ctx


@dramatiq.actor(queue_name="naive", max_retries=3, time_limit=600_000)
def naive_step(record_id: int, node_id: str, customer_id: int) -> None:
    r = get_redis()
    store = RoundStore(r)
    ctx = _context(record_id)
    plan = ctx.plan
    component, config = plan.components[node_id], plan.configs[node_id]
    with read_session() as session:
        ports = RuntimePorts(session, store, ctx.workspace_id)
        customers = load_views(session, [customer_id]) if component.uses_profile else [CustomerView(customer_id, "")]
        outcome = component.execute(Batch(record_id=record_id, node_id=node_id, key=str(customer_id),
                                          customers=customers), config, ports)
        writes = ports.take_writes()
    branch = next((b for b, ids in outcome.routes.items() if customer_id in ids), "")
    result, reason = outcome.results.get(customer_id) or ("passed", None)
    at = step_time(clock.now())
    with write_session() as session:
        for write in writes:
            write(session)
        insert_steps(session, [(record_id, node_id, customer_id, branch, result, reason, at)])
    pipe = r.pipeline(transaction=False)
    for metric, value in metrics_for(component.type, component.category, 1, outcome).items():
        if value:
            pipe.hincrby(f"naive:c:{record_id}:{node_id}", metric, value)
    targets = plan.graph.targets(node_id, branch) if branch else []
    pipe.incrby(f"naive:left:{record_id}", len(targets))
    pipe.execute()
    for target in targets:
        naive_step.send(record_id, target, customer_id)
    if r.decr(f"naive:left:{record_id}") == 0:
        r.set(f"naive:done:{record_id}", time.time())
