"""Behaviour events → customers entering event-triggered rounds, within a second of the event's arrival.

The events service calls `on_events` after it committed a batch, with only the events whose name has an
in-progress event-triggered activity (the trigger index). For each such activity the customer must have done
the event N times within the window (and match its property filters); a customer enters a round once.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine.components.behavior_event import BehaviorEventConfig, event_matches, qualifying
from engine.db import read_session
from engine.flow.graph import graph_for
from engine.models import Activity, ActivityVersion, ExecutionRecord
from engine.runtime.connection import get_redis
from engine.runtime.ports import RuntimePorts
from engine.runtime.rounds import enter
from engine.runtime.step import Enqueue
from engine.runtime.store import TTL, RoundStore
from engine.status import ActivityStatus, RecordStatus

Event = tuple[int, str, dict[str, Any], datetime]  # customer id, name, properties, occurred at


def on_events(workspace_id: int, events: list[Event], *, enqueue: Enqueue) -> int:
    """Returns how many customers entered a round."""
    store = RoundStore(get_redis())
    names = {name for _, name, _, _ in events}
    entered = 0
    with read_session() as session:
        from engine.services.events import event_triggers

        triggers = event_triggers(session=session, workspace_id=workspace_id)
        for activity_id in {a for name in names for a in triggers.get(name, [])}:
            activity = session.get(Activity, activity_id)
            if activity is None or activity.status != ActivityStatus.IN_PROGRESS or not activity.live_version_id:
                continue
            record_id = session.exec(select(ExecutionRecord.id).where(
                ExecutionRecord.activity_id == activity_id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
                col(ExecutionRecord.entry_closed).is_(False)).order_by(col(ExecutionRecord.number).desc())).first()
            version = session.get(ActivityVersion, activity.live_version_id)
            if record_id is None or version is None:
                continue
            graph = graph_for(version.id, version.flow)
            config = BehaviorEventConfig.model_validate(graph.node(graph.trigger_id or "").get("config") or {})
            props: dict[int, dict[str, Any]] = {}
            for customer_id, name, properties, _ in events:
                if event_matches(config, name, properties):
                    props[customer_id] = properties  # the latest matching event's properties
            if not props:
                continue
            ports = RuntimePorts(session, store, workspace_id)
            ok = qualifying(config, list(props), ports) if config.times > 1 else set(props)
            fresh = _first_entries(store, record_id, [cid for cid in props if cid in ok])
            if fresh and enter(record_id, {cid: props[cid] for cid in fresh}, enqueue=enqueue, store=store):
                entered += len(fresh)
    return entered


def _first_entries(store: RoundStore, record_id: int, customer_ids: list[int]) -> list[int]:
    """A customer enters a round once (SADD says who is new)."""
    if not customer_ids:
        return []
    key = f"entered:{record_id}"
    pipe = store.r.pipeline(transaction=False)
    for cid in customer_ids:
        pipe.sadd(key, cid)
    pipe.expire(key, TTL)
    added = pipe.execute()[:-1]
    return [cid for cid, was_added in zip(customer_ids, added, strict=True) if was_added]


def install_hooks() -> Callable[[], None]:
    """Register the runtime with the events service (called by the API process at start); returns a function
    that unregisters them (tests)."""
    from engine.actors import enqueue_step
    from engine.runtime.receipts import apply_receipts
    from engine.services import events

    undo_entry = events.register_entry_hook(lambda ws, evs: on_events(ws, evs, enqueue=enqueue_step))
    undo_receipts = events.register_receipt_hook(lambda receipts: apply_receipts(
        [{"id": r.message_id, "status": r.status, "reason": r.reason} for r in receipts],
        store=RoundStore(get_redis())))

    def uninstall() -> None:
        undo_entry()
        undo_receipts()

    return uninstall


__all__ = ["on_events", "install_hooks"]
