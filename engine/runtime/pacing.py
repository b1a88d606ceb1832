"""Pacing at a touch (issue 16): send windows (quiet hours) and send-rate limits hold customers AT the touch.

When a walk reaches a sending component, `Pacer.admit` splits its customers before they enter it:
- outside the activity's send window in their own zone (engine/runtime/send_window.py): with "wait" they are
  held until the window opens; with "skip" they pass the touch unsent (result "skipped", reason "quiet hours")
  and continue on "out" (`Pacer.execute` adds them to the component's outcome);
- beyond the activity's or the channel's messages-per-minute budget (engine/runtime/rate_limit.py): held until
  the minute reserved for them.
Held customers are parked like a Wait Until's (a batch in `pending:{record}`, a member of `waits`), under a key
`{root}~{touch}~ws…` (window) or `~wr…` (rate, with its reserved minute): the scheduler resumes them as any
parked batch, and `Walk.run` sees from the key that the walk starts AT the touch (the touch runs for them)
rather than after it. Rescue (engine/runtime/rescue.py) reads the same `~w` suffix as a resume at that node.

Counting: a customer enters the touch once, in the walk that finally admits them (sent or skipped); held ones
are counted per walk as `sw_held` / `rl_held` and, when their batch resumes, `sw_released` / `rl_released`
(all under the walk's key + "~p", overwrite-safe like every counter): waiting = held − released ≥ 0 at every
instant, because a batch is released only after the walk that held it has written its counters. Sends stay
exactly-once through the send results (ports.send); a redelivered walk recomputes the same split (the rate
reservation is memoised per batch). Test rounds are not paced. No per-customer Redis round trip: one Lua call
per batch for a rate limit, none for a window.
"""

import hashlib
import time
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import Session, col

from engine.components.base import Batch, Component, CustomerView, Outcome, Ports
from engine.db import forget_with_engine, read_session
from engine.models import Activity, ActivityPacing, ChannelRateLimit, ExecutionRecord, Workspace
from engine.models.pacing import SKIP
from engine.runtime import send_window
from engine.runtime.rate_limit import RateLimiter
from engine.runtime.store import RoundStore

QUIET_HOURS = "quiet hours"
SKIPPED = "skipped"
WINDOW, RATE = "s", "r"  # kinds of held batch
CACHE_TTL_S = 2.0  # settings changed while a round runs apply to its walks within this time
_now = time.monotonic


@dataclass(frozen=True)
class RoundRules:
    activity_id: int
    workspace_id: int
    zone: str  # the workspace's time zone: customers without a valid zone of their own
    window: send_window.Window | None = None
    skip: bool = False
    activity_limit: int | None = None
    channel_limits: dict[str, int] = field(default_factory=dict)

    def limits(self, channel: str) -> list[tuple[str, int]]:
        out = []
        if self.activity_limit:
            out.append((f"a{self.activity_id}", self.activity_limit))
        if channel in self.channel_limits:
            out.append((f"c{self.workspace_id}:{channel}", self.channel_limits[channel]))
        return out


_CACHE: dict[int, tuple[float, RoundRules | None]] = {}
forget_cache = forget_with_engine(_CACHE.clear)


def rules_for(record_id: int) -> RoundRules | None:
    """The pacing of a round's activity (cached a few seconds per process: read per walk, changed rarely)."""
    hit = _CACHE.get(record_id)
    if hit is not None and hit[0] > _now():
        return hit[1]
    with read_session() as session:
        row = session.execute(
            select(col(Activity.id), col(Activity.workspace_id), col(Workspace.time_zone),
                   col(ActivityPacing.window_start), col(ActivityPacing.window_end), col(ActivityPacing.outside),
                   col(ActivityPacing.max_per_minute))
            .select_from(ExecutionRecord)
            .join(Activity, col(Activity.id) == ExecutionRecord.activity_id)
            .join(Workspace, col(Workspace.id) == Activity.workspace_id)
            .outerjoin(ActivityPacing, col(ActivityPacing.activity_id) == Activity.id)
            .where(col(ExecutionRecord.id) == record_id)).first()
        rules: RoundRules | None = None
        if row is not None:
            activity_id, workspace_id, zone, start, end, outside, per_minute = row
            channels = dict(session.execute(select(col(ChannelRateLimit.channel), col(ChannelRateLimit.max_per_minute))
                                            .where(col(ChannelRateLimit.workspace_id) == workspace_id)).all())
            window = None
            if start and end:
                try:
                    window = (send_window.parse_hhmm(start), send_window.parse_hhmm(end))
                except ValueError:
                    window = None  # the service never stores such a window
            rules = RoundRules(activity_id=int(activity_id), workspace_id=int(workspace_id), zone=zone or "UTC",
                               window=window, skip=outside == SKIP, activity_limit=per_minute,
                               channel_limits={str(k): int(v) for k, v in channels.items()})
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[record_id] = (_now() + CACHE_TTL_S, rules)
    return rules


def held_kind(batch: str, node_id: str) -> str:
    """WINDOW / RATE when `batch` is a batch held at `node_id` (it resumes AT the touch), else ""."""
    parts = batch.rsplit("~", 2)
    if len(parts) == 3 and parts[1] == node_id and parts[2][:2] in ("ws", "wr"):
        return parts[2][1]
    return ""


def resumes_at(batch: str, node_id: str) -> bool:
    return bool(held_kind(batch, node_id))


def held_key(batch: str, node_id: str, kind: str, wake_ts: float) -> str:
    """A held batch's key: deterministic (a redelivered walk parks the same keys) and bounded in length however
    often a batch is held again (the previous hold's suffix is replaced)."""
    root = batch.rsplit("~", 2)[0] if held_kind(batch, node_id) else batch
    digest = hashlib.sha1(f"{batch}|{kind}|{wake_ts}".encode()).hexdigest()[:10]
    return f"{root}~{node_id}~w{kind}{digest}"


class _Context(Protocol):
    @property
    def test(self) -> bool: ...


class _Plan(Protocol):
    @property
    def components(self) -> dict[str, Component]: ...


class PacedWalk(Protocol):
    """What a pacer needs of its walk (engine/runtime/step.py `Walk`; a protocol: step imports this module)."""

    @property
    def ctx(self) -> _Context: ...

    @property
    def plan(self) -> _Plan: ...

    record_id: int
    batch: str
    start: str
    at: datetime
    store: RoundStore
    counts: list[tuple[str, str, dict[str, int]]]
    parked: list[tuple[str, str, float, list[int]]]

    def _customers(self, component: Component, ids: list[int], session: Session) -> list[CustomerView]: ...


class Pacer:
    """The pacing of one walk (see the module's docstring)."""

    def __init__(self, walk: PacedWalk) -> None:
        # a proxy, not the walk: walk ↔ pacer would be a reference cycle, and a finished walk (its 2,000
        # customers' views and rows) would then wait for a full collection, which the tuned collector
        # (engine/runtime/gc_tuning.py) makes rare: +330 MiB per worker over 1M customers
        self.walk: PacedWalk = weakref.proxy(walk)
        self.skipped: dict[str, set[int]] = {}

    def admit(self, node_id: str, ids: list[int]) -> list[int]:
        """The customers that enter the touch now (to be sent, or skipped); the others are parked here."""
        walk = self.walk
        if walk.ctx.test or not ids:
            return ids
        component = walk.plan.components[node_id]
        resumed = held_kind(walk.batch, node_id) if node_id == walk.start else ""
        rules = rules_for(walk.record_id)
        limits = rules.limits(component.type) if rules else []
        if rules is None or not (rules.window or limits or resumed):
            return ids
        metrics: dict[str, int] = {"sw_held": 0, "rl_held": 0}
        if resumed:
            metrics["sw_released" if resumed == WINDOW else "rl_released"] = len(ids)
        now = walk.at
        held: list[tuple[str, float, list[int]]] = []  # (kind, wake ts, ids)
        outside: set[int] = set()
        skipped: set[int] = set()
        if rules.window:
            with read_session() as session:
                customers = walk._customers(component, ids, session)
            _inside, closed = send_window.split(rules.window, now, customers, rules.zone)
            for wake, members in sorted(closed.items()):
                outside.update(members)
                if rules.skip:
                    skipped.update(members)
                else:
                    held.append((WINDOW, wake.timestamp(), members))
        go = [cid for cid in ids if cid not in outside]
        if limits and resumed != RATE and go:
            go = self._reserve(node_id, go, now, limits, held)
        metrics["sw_held"] = sum(len(m) for kind, _, m in held if kind == WINDOW)
        metrics["rl_held"] = sum(len(m) for kind, _, m in held if kind == RATE)
        walk.counts.append((node_id, walk.batch + "~p", metrics))
        for kind, wake_ts, members in held:
            walk.parked.append((node_id, held_key(walk.batch, node_id, kind, wake_ts), wake_ts, members))
        if skipped:
            self.skipped[node_id] = skipped
        admitted = set(go) | skipped
        return [cid for cid in ids if cid in admitted]

    def _reserve(self, node_id: str, go: list[int], now: datetime, limits: list[tuple[str, int]],
                 held: list[tuple[str, float, list[int]]]) -> list[int]:
        """Slots under the rate limits: the customers of this minute go, the others wait for their minute."""
        walk = self.walk
        minute = int(now.timestamp() // 60)
        slots = RateLimiter(walk.store.r).reserve(record_id=walk.record_id, node_id=node_id, batch=walk.batch,
                                                  n=len(go), minute=minute, limits=limits)
        now_ids: list[int] = []
        pos = 0
        for slot, count in slots:
            part = go[pos:pos + count]
            pos += count
            if slot <= minute:
                now_ids.extend(part)
            else:
                held.append((RATE, slot * 60.0, part))
        return now_ids

    def execute(self, component: Component, batch: Batch, config: Any, ports: Ports) -> Outcome:
        """The component's own execute, for the customers not skipped; the skipped continue on "out" unsent."""
        skipped = self.skipped.pop(batch.node_id, None)
        if not skipped:
            return component.execute(batch, config, ports)
        rest = [c for c in batch.customers if c.id not in skipped]
        passing = [c.id for c in batch.customers if c.id in skipped]
        outcome = component.execute(replace(batch, customers=rest), config, ports) if rest else \
            Outcome(routes={"out": []}, metrics={"not_sent": 0})
        outcome.routes.setdefault("out", []).extend(passing)
        outcome.results.update({cid: (SKIPPED, QUIET_HOURS) for cid in passing})
        outcome.metrics[SKIPPED] = len(passing)
        return outcome
