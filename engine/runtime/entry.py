"""Behaviour events → customers entering event-triggered rounds, within a second of the event's arrival.

The events service's entry hook (engine/api/app.py `install_hooks`, through `inbox.enter_or_keep`) calls
`on_events` after it committed a batch, with only the events whose name has an
in-progress event-triggered activity (the trigger index). For each such activity the customer must have done
the event N times within the window (and match its property filters); a customer enters a round once.
"""

import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast
from sqlmodel import Session, col, select

from engine.compiled import Compiled
from engine.components.behavior_event import BehaviorEventConfig, event_matches, qualifying
from engine.db import read_session
from engine.flow.graph import FlowGraph, graph_for_text
from engine.models import Activity, ActivityVersion, ExecutionRecord, RecordTrigger
from engine.runtime import redis_state, reentry
from engine.runtime.connection import get_redis
from engine.runtime.entered import continued_rounds
from engine.runtime.ports import RuntimePorts
from engine.runtime.rounds import enter
from engine.runtime.step import Enqueue
from engine.runtime.store import TTL, RoundStore
from engine.shared.trigger_index import event_triggers
from engine.status import ActivityStatus, RecordStatus

Event = tuple[int, str, dict[str, Any], datetime]  # customer id, name, properties, occurred at


def on_events(workspace_id: int, events: list[Event], *, enqueue: Enqueue) -> int:
    """Returns how many customers entered a round."""
    store = RoundStore(get_redis())
    names = {name for _, name, _, _ in events}
    entered = 0
    with read_session() as session:
        triggers = event_triggers(session=session, workspace_id=workspace_id)
        activity_ids = {a for name in names for a in triggers.get(name, [])}
        for record_id, version_id, takes_over in _open_rounds(session, activity_ids, store):
            trigger_id, config = _trigger(session, version_id)
            props: dict[int, dict[str, Any]] = {}
            for customer_id, name, properties, _ in events:
                if event_matches(config, name, properties):
                    props[customer_id] = properties  # the latest matching event's properties
            if not props:
                continue
            ports = RuntimePorts(session, store, workspace_id)
            ok = qualifying(config, list(props), ports) if config.times > 1 else set(props)
            continued = continued_rounds(session, record_id) if takes_over else None
            rule = reentry.rule_of(session, record_id)  # None: the default rule, as before
            fresh = (_first_entries(store, record_id, [cid for cid in props if cid in ok], continued=continued)
                     if rule is None else reentry.admit(store, rule, record_id, trigger_id, reentry.not_in(
                         store, continued or [], [cid for cid in props if cid in ok])))
            if fresh and enter(record_id, {cid: props[cid] for cid in fresh}, enqueue=enqueue, store=store,
                               trigger_id=trigger_id, checked=True):
                entered += len(fresh)
    return entered


_OPEN_ROUNDS = Compiled(
    select(ExecutionRecord.id, Activity.live_version_id, ExecutionRecord.trigger,
           ExecutionRecord.dispatched_at)
    .join(Activity, col(Activity.id) == col(ExecutionRecord.activity_id))
    .where(col(ExecutionRecord.activity_id) == bindparam("activity_id"),
           Activity.status == ActivityStatus.IN_PROGRESS, col(Activity.live_version_id).is_not(None),
           ExecutionRecord.status == RecordStatus.IN_PROGRESS, col(ExecutionRecord.entry_closed).is_(False),
           col(ExecutionRecord.drained_by_id).is_(None), col(ExecutionRecord.is_test).is_(False),
           col(ExecutionRecord.version_id) == col(Activity.live_version_id))
    .order_by(col(ExecutionRecord.number).desc()).limit(1))


def _open_rounds(session: Session, activity_ids: set[int], store: RoundStore) -> list[tuple[int, int, bool]]:
    """(record, version, took over from drained rounds) of the open round of each in-progress activity: its
    newest open round on the live version (a round a republish drained has its entry closed: new customers
    enter the new version's round; only a republish round has rounds it continues). One raw read per
    activity (engine/compiled.py): this runs for every request of behaviour events.

    A round the scheduler has not dispatched yet (published a moment ago) has no Redis marker: its Redis state
    begins here, as it would with the dispatch (engine/scheduler.py), or its first walk would find the round
    "lost" and end it Abnormal End."""
    found: list[tuple[int, int, bool]] = []
    for activity_id in sorted(activity_ids):
        row = _OPEN_ROUNDS.first(session, activity_id=activity_id)
        if row is not None:
            record_id, version_id, trigger, dispatched_at = row
            if dispatched_at is None:
                redis_state.mark(store.r, int(record_id))
            found.append((int(record_id), int(version_id), trigger == RecordTrigger.REPUBLISH))
    return found


_TRIGGERS: "weakref.WeakKeyDictionary[FlowGraph, tuple[str, BehaviorEventConfig]]" = weakref.WeakKeyDictionary()
_FLOW_TEXT = Compiled(select(cast(ActivityVersion.flow, Text))
                      .where(ActivityVersion.id == bindparam("version_id")))


def _trigger(session: Session, version_id: int) -> tuple[str, BehaviorEventConfig]:
    """The Behaviour Event trigger (node id, parsed config) of a version, parsed once per flow content."""
    row = _FLOW_TEXT.first(session, version_id=version_id)
    assert row is not None
    graph = graph_for_text(version_id, row[0])
    found = _TRIGGERS.get(graph)
    if found is None:
        trigger_id = graph.trigger_id or ""
        found = _TRIGGERS[graph] = (trigger_id, BehaviorEventConfig.model_validate(
            graph.node(trigger_id).get("config") or {}))
    return found


def _first_entries(store: RoundStore, record_id: int, customer_ids: list[int], *,
                   continued: list[int] | None = None) -> list[int]:
    """A customer enters a round once (SADD says who is new), and a republish round's customers are new to the
    rounds it continues too (they entered those once already)."""
    if not customer_ids:
        return []
    key = f"entered:{record_id}"
    pipe = store.r.pipeline(transaction=False)
    for cid in customer_ids:
        pipe.sadd(key, cid)
    pipe.expire(key, TTL)
    added = pipe.execute()[:-1]
    fresh = [cid for cid, was_added in zip(customer_ids, added, strict=True) if was_added]
    if continued and fresh:
        pipe = store.r.pipeline(transaction=False)
        for old in continued:
            pipe.smismember(f"entered:{old}", fresh)
        seen = [any(flags) for flags in zip(*pipe.execute(), strict=True)]
        fresh = [cid for cid, was_seen in zip(fresh, seen, strict=True) if not was_seen]
    return fresh


__all__ = ["on_events"]
