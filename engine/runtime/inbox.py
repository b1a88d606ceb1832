"""Receipts and behaviour events accepted while Redis is unavailable: kept in the database, applied later.

The API never refuses a provider's receipts or a behaviour event because Redis is down (restarting, loading its
append-only file): what it cannot hand to the runtime goes into `InboxItem` rows and the request is answered
202. The scheduler drains the rows in id order once Redis answers (`drain`): receipts through
`receipts.apply_receipts`, events through the same entry path the API uses (`entry.on_events`). While a process
has rows waiting, it queues new ones behind them instead of applying them directly, so they keep their order.
Applying a row twice changes nothing, so a crash between applying and deleting one is harmless.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select

from engine.db import read_session, write_session
from engine.models import InboxItem, InboxKind
from engine.runtime.connection import REDIS_UNAVAILABLE
from engine.runtime.entry import on_events
from engine.runtime.receipts import apply_receipts
from engine.runtime.step import Enqueue

log = logging.getLogger("engine.inbox")

Event = tuple[int, str, dict[str, Any], datetime]  # customer id, name, properties, occurred at

_behind = threading.Event()  # this process queued rows not yet known to be drained


def keep_receipts(receipts: list[dict[str, Any]]) -> None:
    _keep(InboxKind.RECEIPTS, receipts, None)


def keep_events(workspace_id: int, events: list[Event]) -> None:
    _keep(InboxKind.EVENTS, [[cid, name, props, at.isoformat()] for cid, name, props, at in events], workspace_id)


def _keep(kind: InboxKind, payload: list[Any], workspace_id: int | None) -> None:
    with write_session() as session:
        session.add(InboxItem(kind=kind, workspace_id=workspace_id, payload=payload))
    _behind.set()
    log.warning("Redis unavailable: %d %s kept in the inbox until it answers", len(payload), kind.value)


def waiting() -> bool:
    """Whether rows this process queued are still waiting (then new ones queue behind them). One indexed read
    per call only while that is so."""
    if not _behind.is_set():
        return False
    with read_session() as session:
        if session.exec(select(InboxItem.id).limit(1)).first() is None:
            _behind.clear()
            return False
    return True


def pending_count() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(InboxItem)).one())


def drain(*, store: Any, enqueue: Callable[[int, str, str], None], limit: int = 200) -> int:
    """Apply up to `limit` rows in order; stops at the first that meets Redis unavailable. Returns how many
    rows were applied (and deleted)."""
    with read_session() as session:
        rows = session.exec(select(InboxItem).order_by(col(InboxItem.id)).limit(limit)).all()
    applied = 0
    for row in rows:
        try:
            if row.kind == InboxKind.RECEIPTS:
                apply_receipts(row.payload, store=store)
            else:
                events = [(int(c), str(n), dict(p), datetime.fromisoformat(at)) for c, n, p, at in row.payload]
                on_events(int(row.workspace_id or 0), events, enqueue=enqueue)
        except REDIS_UNAVAILABLE:
            break  # still away (or loading): the next tick tries again
        with write_session() as session:
            session.execute(delete(InboxItem).where(col(InboxItem.id) == row.id))
        applied += 1
    if applied:
        log.info("inbox: applied %d kept request(s)", applied)
    return applied


def enter_or_keep(workspace_id: int, events: list[Event], *, enqueue: Enqueue) -> int:
    """`on_events`, or — while Redis is unavailable, or events kept earlier still wait — keep the events in the
    database inbox; the scheduler enters them once Redis answers (`drain`)."""
    if not waiting():
        try:
            return on_events(workspace_id, events, enqueue=enqueue)
        except REDIS_UNAVAILABLE as err:  # a customer enters a round once: replay is safe
            log.warning("events: Redis unavailable (%s); keeping them in the inbox", err)
    keep_events(workspace_id, events)
    return 0
