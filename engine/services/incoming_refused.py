"""Incoming Users, the other side (issue 16): the customers a round's re-entry rule did not let in, and why.

Read from the round's Redis state (engine/runtime/reentry.py: the refusals sorted by time, each one's reason,
one counter per reason), kept as long as the round's other Redis state (8 days, beyond the 7-day retention of
the details). The counters per reason are also persisted with the round's counters when it ends, so they outlive
the list; a round never refused anyone shows nothing.
"""

import math
from datetime import UTC, datetime
from typing import cast

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Invalid, NotFound
from engine.flow.graph import graph_for
from engine.models import ActivityVersion, Customer, ExecutionRecord, NodeCounter, User
from engine.runtime import reentry
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.services import activities
from engine.services.incoming import MAX_PAGE_SIZE, WINDOWS

#: reason → the panel's label of its counter
LABELS: dict[str, str] = {reentry.ONCE: "Entered before — once ever", reentry.AFTER: "Too soon — re-entry after N days",
                          reentry.LIVE: "Already in a live run", reentry.ROUND: "Already entered this round"}


class RefusedRow(BaseModel):
    customer_id: int
    qaid: str
    name: str
    refused_at: datetime
    code: str  # once / after / live / round
    reason: str  # in words: "entered 3 days ago — re-entry after 7 days"


class RefusedPage(BaseModel):
    record_id: int
    window: str
    rows: list[RefusedRow]
    total: int  # refused within the window
    counts: dict[str, int]  # reason → customers refused in the round (to date)
    page: int
    pages: int
    page_size: int


def ago(seconds: float) -> str:
    """'3 days' / '5 hours' / '12 minutes' / 'moments' ago, the largest whole unit."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n = int(seconds // size)
        if n >= 1:
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return "moments"


def reason_text(code: str, last: float | None, at: float, days: int) -> str:
    """A refusal in the marketer's words."""
    if code == reentry.ONCE:
        return "Entered before — once ever"
    if code == reentry.AFTER:
        return f"Entered {ago(at - (last or at))} ago — re-entry after {days} day{'s' if days != 1 else ''}"
    if code == reentry.LIVE:
        return "Already in a live run — may enter again once they leave the flow"
    return "Already entered this round — a round takes a customer once"


def _counts(session: Session, store: RoundStore, record_id: int, trigger: str) -> dict[str, int]:
    live_counts = store.counters(record_id).get(trigger, {})
    metrics = {k: v for k, v in live_counts.items() if k.startswith("refused_")}
    if not metrics:  # Redis no longer holds the round: its persisted counters
        rows = session.exec(select(NodeCounter.metric, NodeCounter.value).where(
            NodeCounter.record_id == record_id, NodeCounter.node_id == trigger,
            col(NodeCounter.metric).startswith("refused_"))).all()
        metrics = {str(m): int(v) for m, v in rows}
    return {code: metrics.get(f"refused_{code}", 0) for code in reentry.REASONS
            if metrics.get(f"refused_{code}", 0) > 0}


def refused_users(*, session: Session, actor: User, record_id: int, window: str = "all", page: int = 1,
                  page_size: int = 20, store: RoundStore | None = None) -> RefusedPage:
    """The customers refused entry to a round, the latest first, one page at a time, with the counts per reason."""
    if window not in WINDOWS:
        raise Invalid(f"Unknown time filter '{window}': choose Last 5 Minutes or To Date.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"A page holds 1 to {MAX_PAGE_SIZE} customers.")
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    activities.get_activity(session=session, actor=actor, activity_id=record.activity_id)  # visibility
    version = session.get(ActivityVersion, record.version_id)
    trigger = (graph_for(record.version_id, version.flow).trigger_id or "") if version else ""
    store = store or RoundStore(get_redis())
    r = store.r
    key = f"re:refused:{record_id}"
    span = WINDOWS[window]
    low: float | str = (clock.now() - span).timestamp() if span is not None else "-inf"
    total = int(cast(int, r.zcount(key, low, "+inf")))
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    members = cast(list[bytes], r.zrevrangebyscore(key, "+inf", low, start=(page - 1) * page_size,
                                                     num=page_size))
    ids = [int(m) for m in members]
    whys = cast(list[bytes | None], r.hmget(f"re:why:{record_id}", ids)) if ids else []
    people: dict[int, tuple[str, str]] = {}
    if ids:
        for cid, qaid, name in session.exec(select(Customer.id, Customer.qaid, Customer.name)
                                            .where(col(Customer.id).in_(ids))).all():
            people[int(cid or 0)] = (qaid, name or "")
    rows = []
    for cid, raw in zip(ids, whys, strict=True):
        if raw is None:
            continue
        code, last, at, days = raw.decode().split("|")
        at_s = float(at)
        qaid, name = people.get(cid, ("", ""))
        rows.append(RefusedRow(customer_id=cid, qaid=qaid, name=name or "", code=code,
                               refused_at=datetime.fromtimestamp(at_s, UTC),
                               reason=reason_text(code, float(last) if last else None, at_s, int(days or 0))))
    return RefusedPage(record_id=record_id, window=window, rows=rows, total=total,
                       counts=_counts(session, store, record_id, trigger), page=page, pages=pages,
                       page_size=page_size)


__all__ = ["LABELS", "RefusedPage", "RefusedRow", "refused_users"]
