"""One batch through one component: execute, record each customer's step, count, route onwards.

Idempotent by construction: batch members and child batch keys are deterministic, counters are written per
batch key (overwrite), CustomerStep rows are insert-or-ignore, sends skip customers that already have a
result. A message delivered twice (worker killed, retry) changes nothing the second time.
"""

import hashlib
import traceback
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from engine import clock
from engine.components.base import Batch, Outcome
from engine.components.registry import get_component
from engine.db import read_session, write_session
from engine.flow.graph import FlowGraph, graph_for
from engine.flow.registry import Category
from engine.models import Activity, ActivityVersion, CustomerStep, ExecutionRecord
from engine.runtime.customers import load_views
from engine.runtime.ports import RuntimePorts
from engine.runtime.sql import insert_ignore, upsert
from engine.runtime.store import RoundStore
from engine.status import RecordStatus

Enqueue = Callable[[int, str, str], None]  # (record id, node id, batch key)
SEND_TYPES = {"text_sms", "digital_sms", "email", "wechat_message", "template_message", "app_push", "webhook",
              "push_kafka"}


def child_key(batch: str, node_id: str, branch: str, target: str) -> str:
    return hashlib.blake2b(f"{batch}|{node_id}|{branch}|{target}".encode(), digest_size=10).hexdigest()


def load_graph(session: Session, record: ExecutionRecord) -> FlowGraph:
    version = session.get(ActivityVersion, record.version_id)
    assert version is not None
    return graph_for(version.id, version.flow)


def metrics_for(node_type: str, category: Category, entered: int, outcome: Outcome) -> dict[str, int]:
    """The seed's execution data per component type, for one batch."""
    routed = {branch: len(ids) for branch, ids in outcome.routes.items()}
    metrics: dict[str, int] = {"entered": entered}
    if category == Category.JUDGMENT:
        metrics["passed"] = sum(n for b, n in routed.items() if b != "others")
    else:
        metrics["passed"] = sum(routed.values())
    for branch, n in routed.items():
        metrics[f"branch:{branch}"] = n
    if node_type in SEND_TYPES:
        statuses = [r for r, _ in outcome.results.values()]
        metrics["success"] = sum(1 for s in statuses if s == "success")
        # failed = handed to the channel and failed; customers without an address are `not_sent` instead, so
        # "actually sent" = success + failed + no receipt yet, as the seed defines it
        metrics["failed"] = sum(1 for s in statuses if s == "failed") - outcome.metrics.get("not_sent", 0)
        metrics["pending"] = sum(1 for s in statuses if s == "pending")
        metrics["sent"] = metrics["success"] + metrics["failed"] + metrics["pending"]
    metrics["parked"] = sum(len(ids) for _, ids in outcome.parked)
    metrics.update(outcome.metrics)
    return metrics


def run_step(record_id: int, node_id: str, batch: str, *, enqueue: Enqueue, store: RoundStore,
             resume: bool = False) -> int:
    """Process one batch; returns the number of batches still pending for the round."""
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        if record is None or record.status != RecordStatus.IN_PROGRESS or store.is_stopped(record_id):
            return store.done(record_id, batch)  # a stopped round lets nobody go further
        graph = load_graph(session, record)
        node = graph.node(node_id)
        component = get_component(node["type"])
        ids = store.get_batch(record_id, batch)
        activity = session.get(Activity, record.activity_id)
        assert activity is not None
        ports = RuntimePorts(session, store, activity.workspace_id)
        if resume:
            outcome = Outcome(routes={"out": ids})
        else:
            outcome = _execute(component, node, record_id, node_id, batch, ids, session, store, ports)
    with write_session() as session:
        ports.apply(session)
        _record_steps(session, record_id, node_id, ids, outcome, resume)
    metrics = metrics_for(node["type"], component.category, 0 if resume else len(ids), outcome)
    if resume:
        metrics = {"passed": metrics["passed"], "branch:out": metrics.get("branch:out", 0)}
    pipe = store.r.pipeline(transaction=False)
    store.count(record_id, node_id, batch + ("~r" if resume else ""), metrics, pipe)
    children: list[tuple[str, str]] = []
    for i, (_wake, parked_ids) in enumerate(outcome.parked):
        key = f"{batch}~w{i}"
        store.put_batch(record_id, key, parked_ids, pipe)
        store.add_pending(record_id, [key], pipe)
    for branch, branch_ids in outcome.routes.items():
        if not branch_ids:
            continue
        for target in graph.targets(node_id, branch):
            key = child_key(batch, node_id, branch, target)
            store.put_batch(record_id, key, branch_ids, pipe)
            children.append((target, key))
    store.add_pending(record_id, [k for _, k in children], pipe)
    pipe.execute()
    for i, (wake, _) in enumerate(outcome.parked):
        store.park(record_id, node_id, f"{batch}~w{i}", wake.timestamp())
    for target, key in children:
        enqueue(record_id, target, key)
    return store.done(record_id, batch)


def _execute(component: Any, node: dict[str, Any], record_id: int, node_id: str, batch: str, ids: list[int],
             session: Session, store: RoundStore, ports: RuntimePorts) -> Outcome:
    """Run the executor; an exception is this component failing: its customers fail with the reason, the
    round will end abnormally, the worker carries on."""
    views = load_views(session, ids)
    trigger_props = store.trigger_props(record_id, ids)
    try:
        config = component.parse(node.get("config") or {})
        return component.execute(Batch(record_id=record_id, node_id=node_id, key=batch, customers=views,
                                       trigger_props=trigger_props), config, ports)
    except Exception as err:  # noqa: BLE001 — any executor error is a component failure, reported not raised
        reason = f"{type(err).__name__}: {err}"[:200]
        store.fail(record_id, node_id, reason)
        ports.discard()
        traceback.print_exc()
        return Outcome(results={cid: ("failed", reason) for cid in ids})


def _record_steps(session: Session, record_id: int, node_id: str, ids: list[int], outcome: Outcome,
                  resume: bool) -> None:
    now = clock.now()
    branch_of = {cid: branch for branch, members in outcome.routes.items() for cid in members}
    parked = {cid for _, members in outcome.parked for cid in members}
    rows = []
    for cid in ids:
        result, reason = outcome.results.get(cid, ("parked" if cid in parked else "passed", None))
        rows.append({"record_id": record_id, "node_id": node_id, "customer_id": cid,
                     "branch": branch_of.get(cid, ""), "result": result, "reason": reason, "at": now})
    table = CustomerStep.__table__  # type: ignore[attr-defined]
    if resume:  # the wait's row turns from parked into passed
        upsert(session, table, rows, keys=["record_id", "node_id", "customer_id"], update=["branch", "result", "at"])
    else:
        insert_ignore(session, table, rows)
