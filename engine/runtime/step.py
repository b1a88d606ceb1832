"""One batch through the flow: a *walk* carries the customers of one batch through every component they reach,
in topological order, in one worker call — then writes everything in one go.

- The Dramatiq message names (record, node, batch key); the batch's ids are in Redis (`b:{record}:{batch}`).
  A walk starts there and processes each reachable component once, with the union of the customers routed to
  it by all its parents (a flow is a DAG). Only Wait Until stops a walk: its customers are parked as a new
  batch (`{batch}~{node}~w{i}`) that the scheduler resumes as a walk of its own. A paced touch (send window,
  rate limit: engine/runtime/pacing.py) parks its held customers the same way; they resume AT the touch.
- Customers are loaded once per walk (the first component that needs their profile loads the whole batch);
  components that only route ids (Target Audience, Random Grouping, Result Judgment, End, ...) never load them.
- Writes: the sends' step rows and one route row per customer (every other component it passed, as JSON:
  engine/runtime/details.py) in insert-or-ignore executemanys (raw DBAPI on SQLite) in one short write
  transaction; counters of every component in one Redis pipeline, under the walk's batch key
  (overwrite-safe); then the batch leaves the pending set. A component that writes customer data (Tag,
  Generate Audience) flushes before the next component reads it.
- Idempotent by construction: a redelivered walk recomputes the same routes (deterministic splits), the same
  counter fields, ignored duplicate steps, and sends nothing twice (ports.send). A batch is claimed while a
  worker walks it, so a duplicate delivery waits instead of walking alongside (`BatchBusy`); a walk of a batch
  no longer pending is a no-op.
"""

import gc
import itertools
import traceback
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, select
from sqlmodel import Session, col

from engine import clock
from engine.compiled import Compiled
from engine.components.base import Batch, Component, CustomerView, Outcome
from engine.components.registry import get_component, is_send
from engine.db import get_engine, read_session
from engine.flow.graph import FlowGraph, graph_for, graph_for_text
from engine.flow.registry import Category
from engine.models import Activity, ActivityVersion, ExecutionRecord
from engine.runtime import ab_winner, reentry
from engine.runtime.connection import REDIS_UNAVAILABLE
from engine.runtime.customers import load_view_map
from engine.runtime.details import STEP_COLUMNS, STEP_TABLE, Routes, insert_route_groups
from engine.runtime.goal_walk import exited_outcome, guard_for
from engine.runtime.pacing import Pacer, resumes_at
from engine.runtime.ports import RuntimePorts
from engine.runtime.sql import Groups, insert_ignore_grouped, insert_ignore_rows, runtime_write
from engine.runtime.store import RoundStore
from engine.runtime.uniques import add as add_uniques
from engine.status import RecordStatus

Enqueue = Callable[[int, str, str], None]  # (record id, node id, batch key)
SEND_ZEROS = {"sent": 0, "success": 0, "failed": 0, "pending": 0}
COLLECT_EVERY = 16  # walks of a process between young collections (see run_step)
#: components that only route ids (no send, no write, nothing outside the walk): their counters, entered
#: included, ride with the next effectful component's entry write (or the walk's last write) instead of a Redis
#: round trip each — still in order and atomic with it, so a parent's routes are never seen after its children's
#: entered. A stop is seen at the next effectful component: as if it had come a few microseconds later.
ROUTING_ONLY = frozenset({"target_audience", "behavior_event", "random_grouping", "ab_test", "end", "tag_judgment",
                          "result_judgment", "attribute_judgment", "audience_judgment", "event_judgment"})
_WALKS = itertools.count(1)


class BatchBusy(Exception):
    """Another live worker is walking this batch: try again later (it will be done, or its claim lapses)."""


def parked_key(batch: str, node_id: str, index: int) -> str:
    return f"{batch}~{node_id}~w{index}"


def load_graph(session: Session, record: ExecutionRecord) -> FlowGraph:
    version = session.get(ActivityVersion, record.version_id)
    assert version is not None
    return graph_for(record.version_id, version.flow)


def metrics_for(node_type: str, category: Category, entered: int, outcome: Outcome) -> dict[str, int]:
    """The seed's execution data per component type, for one batch — except a send's outcomes (sent,
    success, failed, pending, stopped), which the store counts per customer as their results are stored
    (store.settle_results, receipts), so they can never run ahead of or behind the results themselves."""
    routed = {branch: len(ids) for branch, ids in outcome.routes.items()}
    metrics: dict[str, int] = {"entered": entered}
    if category == Category.JUDGMENT:
        metrics["passed"] = sum(n for b, n in routed.items() if b != "others")
    else:
        metrics["passed"] = sum(routed.values())
    for branch, n in routed.items():
        metrics[f"branch:{branch}"] = n
    if is_send(node_type):
        # customers without an address are `not_sent`: never handed to a channel, not "actually sent"
        metrics["not_sent"] = outcome.metrics.get("not_sent", 0)
    metrics["parked"] = sum(len(ids) for _, ids in outcome.parked)
    metrics.update(outcome.metrics)
    return metrics


# ---------------------------------------------------------------- the flow, prepared once per graph


@dataclass
class Plan:
    """What a walk needs to know about a flow, computed once per graph (graphs are cached per version)."""

    graph: FlowGraph
    components: dict[str, Component]
    configs: dict[str, Any]  # parsed config, or the exception parsing raised (the component then fails)
    orders: dict[str, list[str]]  # start node → the nodes reachable from it, in topological order
    event_triggered: bool = False  # customers enter with the properties of their event (Attribute Judgment)
    profile_needs: dict[str, tuple[bool, bool, frozenset[str] | None]] = field(default_factory=dict)
    #: node → its number (sorted ids: fixed for a version): a walk's routes as bit masks (engine/runtime/uniques.py)
    node_order: dict[str, int] = field(default_factory=dict)

    def needs(self, start: str, *, resume: bool = False) -> tuple[bool, bool, frozenset[str] | None]:
        """(profiles, attributes, tags): does any component reachable from `start` read the customers'
        profiles, their attributes, which tags (None: any)? (Routing-only flows never load customers; most
        never parse attribute JSON, and read a tag or two of the many a customer has.)"""
        key = f"{start}~r" if resume else start
        found = self.profile_needs.get(key)
        if found is None:
            order = self.order_from(start, resume=resume)
            profiles = [n for n in order if self.components[n].uses_profile]
            attributes = any(isinstance(self.configs[n], Exception)
                             or self.components[n].uses_attributes(self.configs[n]) for n in profiles)
            read: set[str] = set()
            every = False  # some component may read any tag
            for n in profiles:
                wanted = None if isinstance(self.configs[n], Exception) else \
                    self.components[n].uses_tags(self.configs[n])
                if wanted is None:
                    every = True
                    break
                read |= wanted
            found = self.profile_needs[key] = (bool(profiles), attributes, None if every else frozenset(read))
        return found

    def order_from(self, start: str, *, resume: bool = False) -> list[str]:
        key = f"{start}~r" if resume else start
        order = self.orders.get(key)
        if order is None:
            order = self.orders[key] = _topological(self.graph, start, skip_start=resume)
        return order


_PLANS: "weakref.WeakKeyDictionary[FlowGraph, Plan]" = weakref.WeakKeyDictionary()


def plan_for(graph: FlowGraph) -> Plan:
    plan = _PLANS.get(graph)
    if plan is None:
        components: dict[str, Component] = {}
        configs: dict[str, Any] = {}
        for node_id, node in graph.nodes.items():
            component = components[node_id] = get_component(node["type"])
            try:
                configs[node_id] = component.parse(node.get("config") or {})
            except Exception as err:  # noqa: BLE001 — an invalid config fails the component when it runs
                configs[node_id] = err
        trigger = graph.nodes.get(graph.trigger_id or "", {}).get("type")
        plan = _PLANS[graph] = Plan(graph=graph, components=components, configs=configs, orders={},
                                    event_triggered=trigger == "behavior_event",
                                    node_order={n: i for i, n in enumerate(sorted(graph.nodes))})
    return plan


def _topological(graph: FlowGraph, start: str, *, skip_start: bool) -> list[str]:
    """Nodes reachable from `start` (itself first unless skipped), each after all of its reachable parents."""
    children: dict[str, list[str]] = defaultdict(list)  # one entry per edge
    for (source, _branch), targets in graph.next.items():
        children[source].extend(targets)
    reachable: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in reachable:
            reachable.add(node)
            stack.extend(children[node])
    indegree = dict.fromkeys(reachable, 0)
    for node in reachable:
        for child in children[node]:
            indegree[child] += 1
    order: list[str] = []
    ready = [start]
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order[1:] if skip_start else order


def traverse(plan: Plan, start: str, ids: list[int], execute: Callable[[str, list[int]], Outcome], *,
             resume: bool = False, resumed: Outcome | None = None) -> None:
    """Carry `ids` from `start` through the flow: each reachable component once, in topological order, with
    the union of the customers its parents routed to it (each customer once). With `resume`, `start` is a wait
    whose customers continue on "out". Pure routing: `execute(node, ids)` does the work and returns the
    outcome (the runtime's walk, or the property tests' in-memory ports)."""
    graph = plan.graph
    inbox: dict[str, list[list[int]]] = defaultdict(list)

    def route(node_id: str, outcome: Outcome) -> None:
        for branch, members in outcome.routes.items():
            if members:
                for target in graph.targets(node_id, branch):
                    inbox[target].append(members)

    if resume:
        route(start, resumed or Outcome(routes={"out": ids}))
    else:
        inbox[start].append(ids)
    for node_id in plan.order_from(start, resume=resume):
        parts = inbox.pop(node_id, None)
        if not parts:
            continue
        node_ids = parts[0] if len(parts) == 1 else list(dict.fromkeys(i for p in parts for i in p))
        if node_ids:
            route(node_id, execute(node_id, node_ids))


# ---------------------------------------------------------------- one walk


@dataclass
class RoundContext:
    record_id: int
    workspace_id: int
    plan: Plan
    test: bool = False  # seed 004: a test round's sends are marked as tests (RuntimePorts.send)
    version_id: int = 0  # the version the round runs (its distinct customers: engine/runtime/uniques.py)


_ROUND = Compiled(select(col(ExecutionRecord.status), col(ExecutionRecord.version_id),
                          col(Activity.workspace_id), cast(col(ActivityVersion.flow), Text),
                          col(ExecutionRecord.is_test))
                   .join(Activity, col(Activity.id) == ExecutionRecord.activity_id)
                   .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
                   .where(col(ExecutionRecord.id) == bindparam("record_id")))


def round_context(record_id: int) -> RoundContext | None:
    """The round's flow, or None when the round is not in progress: one raw read per walk, the plan cached per
    flow content (a Not Started activity's version is edited in place, so a version id alone does not name a
    flow; the stored JSON text does, without decoding it)."""
    with read_session() as session:
        row = _ROUND.first(session, record_id=record_id)
    if row is None or row[0] != RecordStatus.IN_PROGRESS:
        return None
    _status, version_id, workspace_id, flow_text, is_test = row
    plan = plan_for(graph_for_text(int(version_id), flow_text))
    return RoundContext(record_id=record_id, workspace_id=int(workspace_id), plan=plan, test=bool(is_test),
                        version_id=int(version_id))


class Walk:
    def __init__(self, ctx: RoundContext, batch: str, store: RoundStore) -> None:
        self.ctx = ctx
        self.record_id = ctx.record_id
        self.batch = batch
        self.store = store
        self.plan = ctx.plan
        self.at = clock.now()  # the time of every step of the walk
        self.stamp = step_time(self.at)  # ... as the database stores it
        #: sends' step rows: (record, node, branch, result, reason, at) → customers (runtime/sql.py `Groups`)
        self.sends: Groups = {}
        self.routes = Routes()  # every other component: one route row per customer, written at the end
        self.start = ""
        self.counts: list[tuple[str, str, dict[str, int]]] = []  # written with the next component's entered
        self.seen: list[tuple[str, list[int]]] = []  # (node, customers): added by route when the walk ends
        self.stopped = False  # the round's stop was seen: the walk goes no further
        self.parked: list[tuple[str, str, float, list[int]]] = []  # node, key, wake ts, ids
        self.writes: list[Callable[[Session], None]] = []
        self.views: dict[int, CustomerView] | None = None
        self.props: dict[int, dict[str, Any]] | None = None
        self.members: list[int] = []
        self.needs_views = self.needs_attributes = False
        self.needs_tags: frozenset[str] | None = None
        self.pace = Pacer(self)  # send windows and rate limits hold customers at a touch (runtime/pacing.py)
        self.guard = None if ctx.test else guard_for(ctx.record_id, store)  # issue 16: holdout and exits

    # -- the walk
    def run(self, start: str, ids: list[int], *, resume: bool = False) -> None:
        self.members = ids
        self.start = start
        resume = resume and not resumes_at(self.batch, start)  # held at a touch: the touch runs for them
        if self.guard is not None:
            ids = self.guard.admit(self, start, ids, resume=resume, trigger=self.plan.graph.trigger_id)
        self.needs_views, self.needs_attributes, self.needs_tags = self.plan.needs(start, resume=resume)
        resumed = None
        if resume:  # the wait is over: its customers continue on "out" (held at an AB Test: the winner's branch)
            wait_type = self.plan.graph.node(start)["type"]
            resumed = ab_winner.resume_outcome(self.store, self.record_id, start, wait_type, ids)
            self.routes.add(start, ids, resumed)
            metrics = metrics_for(wait_type, self.plan.components[start].category, 0, resumed)
            self.counts.append((start, self.batch + "~r", {k: v for k, v in metrics.items()
                                                           if k == "passed" or k.startswith("branch:")}))
        traverse(self.plan, start, ids, self._step, resume=resume, resumed=resumed)

    def _customers(self, component: Component, ids: list[int], session: Session) -> list[CustomerView]:
        if not self.needs_views:
            return [CustomerView(cid, "") for cid in ids]
        if self.views is None:
            self.views = load_view_map(session, self.members, attributes=self.needs_attributes,
                                       tags=self.needs_tags)
        views = self.views
        try:
            return [views[cid] for cid in ids]
        except KeyError:  # a customer deleted since the batch was made: not there, nothing to send them
            return [views[cid] for cid in ids if cid in views]

    def _trigger_props(self) -> dict[int, dict[str, Any]]:
        """The triggering events' properties of the walk's customers: read once per walk (one HMGET), not per
        component (components look their customers up in it)."""
        if self.props is None:
            self.props = self.store.trigger_props(self.record_id, self.members)
        return self.props

    def _enter(self, node_id: str, ids: list[int]) -> bool:
        """Count the customers entering `node_id` (with the counters of the component before, in one atomic
        write: a reader sees a parent's routes no later than its children's entered) and ask whether the round
        was stopped. Returns False when it was: the customers stay here, counted "stopped"."""
        store, record_id = self.store, self.record_id
        pipe = store.r.pipeline(transaction=True)
        entering = {"entered": len(ids)}
        if self.plan.components[node_id].sends:
            entering.update(SEND_ZEROS)  # the outcome counters exist (at 0) from the first customer on
        store.count_many(record_id, [*self.counts, (node_id, self.batch, entering)], pipe)
        pipe.exists(f"stopped:{record_id}")
        self.counts = []
        if not pipe.execute()[-1]:
            return True
        self.stopped = True
        self.counts.append((node_id, self.batch, {"entered": len(ids), "stopped": len(ids)}))
        return False

    def _step(self, node_id: str, ids: list[int]) -> Outcome:
        component = self.plan.components[node_id]
        if component.sends and not self.stopped and not (ids := self.pace.admit(node_id, ids)):
            return Outcome()  # everyone held at the touch (send window, rate limit)
        if self.stopped or (component.type not in ROUTING_ONLY and not self._enter(node_id, ids)):
            return Outcome()  # stopped: nobody goes further
        self.seen.append((node_id, ids))
        config = self.plan.configs[node_id]
        node_type = component.type
        with read_session() as session:
            ports = RuntimePorts(session, self.store, self.ctx.workspace_id, test=self.ctx.test)
            try:
                if isinstance(config, Exception):
                    raise config
                customers = self._customers(component, ids, session)
                gone = self.guard.before_touch(node_id, customers, session) if self.guard and component.sends else ()
                customers = [c for c in customers if c.id not in gone] if gone else customers
                trigger_props = self._trigger_props() if self.plan.event_triggered else {}
                batch = Batch(record_id=self.record_id, node_id=node_id, key=self.batch, customers=customers,
                              trigger_props=trigger_props)
                outcome = self.pace.execute(component, batch, config, ports)  # the skipped pass unsent
                if gone:
                    exited_outcome(outcome, set(gone))
            except REDIS_UNAVAILABLE:
                raise  # the engine's own store, not the component: the walk runs again once Redis answers
            except Exception as err:  # noqa: BLE001 — an executor error is a component failure, reported not raised
                reason = f"{type(err).__name__}: {err}"[:200]
                self.store.fail(self.record_id, node_id, reason)
                ports.discard()
                traceback.print_exc()
                outcome = Outcome(results={cid: ("failed", reason) for cid in ids},
                                  metrics={"not_sent": len(ids)} if component.sends else {})
            writes = ports.take_writes()
        self.counts.append((node_id, self.batch, metrics_for(node_type, component.category, len(ids), outcome)))
        if component.sends:
            self._rows(node_id, ids, outcome)
        else:
            self.routes.add(node_id, ids, outcome)
        for index, (wake, members) in enumerate(outcome.parked):
            self.parked.append((node_id, parked_key(self.batch, node_id, index), wake.timestamp(), members))
        if writes:  # customer data changed (tags, audiences): later components must read it
            self.writes.extend(writes)
            self.flush_db()
            self.views = None
        return outcome

    def _rows(self, node_id: str, ids: list[int], outcome: Outcome) -> None:
        """One step row per customer of a send: the branch taken, the result (success / failed / pending, or
        failed with the component's error) and the reason — gathered by what the rows share (engine/runtime/sql.py
        `insert_ignore_grouped`: a walk's sends are a few dozen groups)."""
        sends, record_id, stamp = self.sends, self.record_id, self.stamp
        results = outcome.results
        get = results.get
        routed = 0
        for branch, members in outcome.routes.items():
            routed += len(members)
            plain = (record_id, node_id, branch, "passed", None, stamp)
            if not results:
                sends.setdefault(plain, []).extend(members)
                continue
            by_result: dict[tuple[str, str | None] | None, list[int]] = {}
            for cid in members:
                found = get(cid)
                bucket = by_result.get(found)
                if bucket is None:
                    bucket = by_result[found] = []
                bucket.append(cid)
            for found, group in by_result.items():
                key = plain if found is None else (record_id, node_id, branch, found[0], found[1], stamp)
                sends.setdefault(key, []).extend(group)
        if routed == len(ids):
            return
        in_route = {cid for members in outcome.routes.values() for cid in members}
        parked = {cid for _, members in outcome.parked for cid in members}
        for cid in ids:  # not routed on: End, parked, failed (or dropped)
            if cid not in in_route:
                result, reason = get(cid) or ("parked" if cid in parked else "passed", None)
                sends.setdefault((record_id, node_id, "", result, reason, stamp), []).append(cid)

    def _add_seen(self, pipe: Any) -> None:
        """The walk's customers into their version's HyperLogLogs, once each, by route — when the walk ends (its
        routes are known then; test rounds' testers are no version's customers)."""
        if self.seen and not self.ctx.test:
            add_uniques(pipe, self.ctx.version_id, self.seen, self.plan.node_order)
        self.seen = []

    # -- writing
    def flush_db(self, *, final: bool = False) -> None:
        """Write the customer data and send rows so far; with `final`, the walk's route rows too (only once the
        walk is over: a route row is insert-or-ignore, so it must be complete when first written)."""
        routes = self.routes.groups(self.record_id, self.start, self.stamp) if final else {}
        if not (self.sends or routes or self.writes):
            return
        with runtime_write() as session:
            for write in self.writes:
                write(session)
            insert_ignore_grouped(session, STEP_TABLE, STEP_COLUMNS, "customer_id", self.sends)
            insert_route_groups(session, routes)
        self.sends, self.writes = {}, []

    def finish(self) -> int:
        """Write everything; the batch leaves the pending set last (with its claim, in the same transaction).
        Returns the batches still pending."""
        self.flush_db(final=True)
        store, record_id = self.store, self.record_id
        pipe = store.r.pipeline(transaction=True)
        store.count_many(record_id, self.counts, pipe)
        self._add_seen(pipe)
        if self.stopped:
            self.parked = []  # a stopped round parks nobody (its waits are dropped as they wake anyway)
        for _node_id, key, _wake, members in self.parked:
            store.put_batch(record_id, key, members, pipe)
        store.add_pending(record_id, [key for _, key, _, _ in self.parked], pipe)
        for node_id, key, wake, _members in self.parked:
            store.park(record_id, node_id, key, wake, pipe)
        reentry.leave(store.r, pipe, record_id, self.members, self.parked)  # issue 16: who left the flow
        pipe.srem(f"pending:{record_id}", self.batch)
        pipe.scard(f"pending:{record_id}")
        store.release(record_id, self.batch, pipe)
        return int(pipe.execute()[-2])


def step_time(at: datetime) -> Any:
    """`at` as the step rows carry it: on SQLite the text SQLAlchemy would store (bound once per walk, the rows
    go through the raw DBAPI cursor), elsewhere the datetime."""
    dialect = get_engine().dialect
    if dialect.name != "sqlite":
        return at
    process = STEP_TABLE.c.at.type.dialect_impl(dialect).bind_processor(dialect)
    return process(at) if process else at


def insert_steps(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert-or-ignore (record, node, customer, branch, result, reason, at) send rows."""
    insert_ignore_rows(session, STEP_TABLE, STEP_COLUMNS, rows)


def run_step(record_id: int, node_id: str, batch: str, *, enqueue: Enqueue | None = None, store: RoundStore,
             resume: bool = False) -> int:
    """Walk one batch from `node_id` (with `resume`, from after the wait `node_id`); returns the number of
    batches still pending for the round. Raises BatchBusy while another worker walks the same batch.
    (`enqueue` is unused: a walk goes through the whole flow; parked batches come back via the scheduler.)"""
    ctx = round_context(record_id)
    if ctx is None:
        return store.done(record_id, batch)
    state, found = store.begin(record_id, batch)
    if state == "stopped":
        return store.done(record_id, batch)  # a stopped round lets nobody go further
    if state == "done":
        return int(found)  # already walked (a redelivered message)
    if state == "busy":
        raise BatchBusy(f"batch {batch} of record {record_id} is being walked by another worker")
    walk = Walk(ctx, batch, store)
    try:
        walk.run(node_id, found, resume=resume)
        pending = walk.finish()
        # A walk's HTTP requests leave reference cycles (httpx Request ↔ Response ↔ stream) holding their
        # bodies (~100 KB each). The tuned collector (engine/runtime/gc_tuning.py) counts net allocations, which
        # a walk barely moves, so they piled up: +150 MiB per worker over 1M customers. A young collection every
        # few walks frees them (after every walk it cost ~5 % of the workers' CPU: other threads' live walks
        # are young objects too; every 8 walks, 2.4 % of the workers' GIL samples at 1M — every 16, the peak RSS
        # per worker went from 159 to 163 MiB).
        if next(_WALKS) % COLLECT_EVERY == 0:
            gc.collect(1)
        return pending
    except BaseException:
        try:
            store.release(record_id, batch)
        except Exception:  # noqa: BLE001 — Redis away: the claim lapses after its TTL (this thread may retake it)
            pass
        raise
