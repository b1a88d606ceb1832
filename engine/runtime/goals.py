"""Issue 16: behaviour events → conversions and exits, counted as the events arrive (no walk pays for it).

The events service hands every stored batch to `on_goal_events` after its commit (engine/api/app.py
`install_hooks`). Per request: one read of the workspace's goal settings (`activitygoal`, a handful of rows);
only when an event's name is a goal or exit event of an activity, one read of that activity's rounds that could
hold an entry within the window, and one read of the route rows of these customers in them (the primary key's
prefix: record, customer). So the cost follows the goal events, not the rounds' sizes.

- **Conversion**: the customer entered the round (their first route row's time) at most `goal_days` before
  the goal event happened, and not after it. One `goalconversion` row per (round, customer), insert-or-ignore:
  the first qualifying event counts, a replay counts nothing. Held-out customers (their route entry says so)
  convert too: that is what the uplift compares.
- **Exit**: an exit event (or the goal, with "exit on goal") of a customer inside an in-progress round who
  entered before it puts them in the round's exit set, so no later touch or wake sends them anything
  (engine/runtime/goal_walk.py), and counts them "exited" at once at the Wait Until where they are parked.

A customer whose entry walk is still being written (milliseconds) has no route row yet: such an event is not
counted for that round.
"""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from engine.db import read_session, write_session
from engine.models import Activity, ActivityGoal, ExecutionRecord, GoalConversion, table_of
from engine.runtime import live, reentry
from engine.runtime.connection import get_redis
from engine.runtime.details import ROUTE_TABLE
from engine.runtime.goal_walk import HELD_OUT, exit_key, mark_exited
from engine.runtime.sql import insert_ignore
from engine.runtime.store import TTL, RoundStore
from engine.status import RecordStatus

Event = tuple[int, str, dict[str, Any], datetime]  # customer id, name, properties, occurred at
CHUNK = 500
CONVERSION_TABLE = table_of(GoalConversion)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _routes(session: Any, record_ids: list[int], customer_ids: list[int]) -> list[Any]:
    query = select(ROUTE_TABLE.c.record_id, ROUTE_TABLE.c.customer_id, ROUTE_TABLE.c.start_node, ROUTE_TABLE.c.at,
                   ROUTE_TABLE.c.route).where(ROUTE_TABLE.c.record_id.in_(bindparam("records", expanding=True)),
                                              ROUTE_TABLE.c.customer_id.in_(bindparam("ids", expanding=True)))
    rows: list[Any] = []
    for first in range(0, len(customer_ids), CHUNK):
        rows += session.execute(query, {"records": record_ids, "ids": customer_ids[first:first + CHUNK]}).all()
    return rows


class _Entry:
    """One customer in one round, from their route rows."""

    __slots__ = ("at", "held", "parked", "resumed")

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.held = False
        self.parked: set[str] = set()
        self.resumed: set[str] = set()

    def add(self, start: str, at: datetime, route: str) -> None:
        at = _aware(at)
        self.at = at if self.at is None or at < self.at else self.at
        self.resumed.add(start)
        if '"parked"' in route or HELD_OUT in route:
            for node, value in json.loads(route).items():
                if isinstance(value, list) and len(value) > 1:
                    if value[1] == "parked":
                        self.parked.add(node)
                    elif value[1] == HELD_OUT:
                        self.held = True

    def waiting_at(self) -> str | None:
        """The Wait Until the customer is parked at now (parked there, not resumed from it yet)."""
        waits = self.parked - self.resumed
        return min(waits) if waits else None


def on_goal_events(workspace_id: int, events: list[Event], *, store: RoundStore | None = None) -> tuple[int, int]:
    """Count conversions and take exiting customers out. Returns (conversions counted, customers exited)."""
    if not events:
        return 0, 0
    names = {name for _, name, _, _ in events}
    with read_session() as session:
        goals = session.execute(select(ActivityGoal).join(Activity, col(Activity.id) == col(ActivityGoal.activity_id))
                                .where(col(Activity.workspace_id) == workspace_id)).scalars().all()
        relevant = [g for g in goals if g.goal_event in names or names & _exit_names(g)]
        if not relevant:
            return 0, 0
        conversions: list[dict[str, Any]] = []
        exits: dict[int, dict[str, list[int]]] = {}
        for goal in relevant:
            found, leaving = _activity(session, goal, events)
            conversions += found
            for record_id, per_node in leaving.items():
                exits.setdefault(record_id, {}).update(per_node)
    if conversions:
        with write_session() as session:
            insert_ignore(session, CONVERSION_TABLE, conversions)
    exited = 0
    if conversions or exits:
        store = store or RoundStore(get_redis())
        for record_id, per_node in exits.items():
            for node_id, ids in per_node.items():
                if node_id:
                    exited += mark_exited(store, record_id, node_id, ids)
                    reentry.leave_now(store.r, record_id, ids)  # out of the flow now: no live run any more
                else:  # walking, or done: out of the exit set's reach only at the next touch (if any)
                    pipe = store.r.pipeline(transaction=False)
                    pipe.sadd(exit_key(record_id), *ids)
                    pipe.expire(exit_key(record_id), TTL)
                    pipe.execute()
        pipe = store.r.pipeline(transaction=False)
        for record_id in sorted({c["record_id"] for c in conversions}):
            live.publish(pipe, record_id)  # open panels following the round re-read (states/live.py)
        pipe.execute()
    return len(conversions), exited


def _exit_names(goal: ActivityGoal) -> set[str]:
    return set(goal.exit_events or []) | ({goal.goal_event} if goal.exit_on_goal and goal.goal_event else set())


def _activity(session: Any, goal: ActivityGoal, events: list[Event]) -> tuple[list[dict[str, Any]],
                                                                               dict[int, dict[str, list[int]]]]:
    exit_names = _exit_names(goal)
    window = timedelta(days=goal.goal_days)
    firsts: dict[int, datetime] = {}  # customer → earliest goal event of the request
    exit_at: dict[int, datetime] = {}  # customer → earliest exit event of the request
    for cid, name, _props, occurred in events:
        occurred = _aware(occurred)
        if name == goal.goal_event and (cid not in firsts or occurred < firsts[cid]):
            firsts[cid] = occurred
        if name in exit_names and (cid not in exit_at or occurred < exit_at[cid]):
            exit_at[cid] = occurred
    customers = sorted(set(firsts) | set(exit_at))
    times = [*firsts.values(), *exit_at.values()]
    earliest, latest = min(times), max(times)
    rounds = session.execute(
        select(col(ExecutionRecord.id), col(ExecutionRecord.status))
        .where(col(ExecutionRecord.activity_id) == goal.activity_id, col(ExecutionRecord.is_test).is_(False),
               col(ExecutionRecord.started_at) <= latest,
               (col(ExecutionRecord.ended_at).is_(None)) | (col(ExecutionRecord.ended_at) >= earliest - window))
    ).all()
    if not rounds:
        return [], {}
    live = {int(rid) for rid, status in rounds if status == RecordStatus.IN_PROGRESS}
    entries: dict[tuple[int, int], _Entry] = defaultdict(_Entry)
    for record_id, cid, start, at, route in _routes(session, [int(r) for r, _ in rounds], customers):
        entries[(int(record_id), int(cid))].add(str(start), at, str(route))
    conversions: list[dict[str, Any]] = []
    exits: dict[int, dict[str, list[int]]] = {}
    for (record_id, cid), entry in entries.items():
        if entry.at is None:
            continue
        converted = firsts.get(cid)
        if goal.goal_event and converted is not None and entry.at <= converted <= entry.at + window:
            conversions.append({"record_id": record_id, "customer_id": cid, "entered_at": entry.at,
                                "converted_at": converted, "held_out": entry.held})
        leaving = exit_at.get(cid)
        if record_id in live and leaving is not None and leaving >= entry.at and not entry.held:
            exits.setdefault(record_id, {}).setdefault(entry.waiting_at() or "", []).append(cid)
    return conversions, exits

