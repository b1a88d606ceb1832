"""The Dashboard: the In Progress activities an actor may see and how their sends went in the last 24 hours.

What it counts, and from where:
- **Which activities**: In Progress ones within `permissions.visible_clause(actor)` — the rule of the activity
  list — so a private activity's numbers never reach a manager or another marketer.
- **Which sends**: those of their send components (every `SendingComponent` of the component registry: Text
  SMS, Digital SMS, Email, WeChat Message, Template Message, APP PUSH, Webhook, Push Kafka) in every round of
  those activities (a periodic activity's earlier cycles of the day count too), from the per-customer step
  rows, the only execution data that carries a time. The Redis counters (`execution.counters_of`) are round
  totals without one: they can neither be cut to 24 hours nor spread over hours, so they serve to notice
  that nothing changed (`dashboard_sends.SendHistory`). Step rows do not lag where it matters: a walk writes
  them before its counters, and a receipt updates its row right after its counter (one that overtakes its
  row is applied by the scheduler within a tick); a round that began inside the window shows exactly its
  counters' sent / success / failed / pending.
- **Results**: success, failed, pending (accepted, no receipt yet). Customers without a usable address fail
  without being handed to a channel; they are `not_sent`, as in the counters, so sends = success + failed +
  pending ("actually sent", as the seed defines it) and the success rate is success / sends.
- **The window**: whole clock hours (UTC), the current one and the 23 before it, so the 24 bars of a
  channel's chart add up to its totals, and the channels to the activities' sends.

Cost: four small queries (activities, their rounds, latest starts, the versions' flows), the counters of
the rounds, and the step-row aggregate only for components whose counters moved (see dashboard_sends).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from engine import clock
from engine.models import Activity, ActivityVersion, ExecutionRecord, User, row_id
from engine.permissions import visible_clause
from engine.services.dashboard_sends import HOUR_FORMAT, RESULTS, SEND_COMPONENTS, Counts, Round, SendHistory
from engine.status import ActivityStatus, RecordStatus

HOURS = 24
#: one per process: dashboards of every user share what was read (visibility is applied before it is asked)
HISTORY = SendHistory()


class Totals(BaseModel):
    """Sends of a set of components; sends = success + failed + pending (customers not sent are apart)."""

    sends: int = 0
    success: int = 0
    failed: int = 0
    pending: int = 0
    not_sent: int = 0

    @property
    def success_rate(self) -> float | None:
        """success / sends; None without sends."""
        return self.success / self.sends if self.sends else None

    def add(self, result: str, n: int) -> None:
        """Count `n` customers with a result (success / failed / pending / not_sent)."""
        setattr(self, result, getattr(self, result) + n)
        if result != "not_sent":
            self.sends += n

    def merge(self, other: "Totals") -> None:
        for name in ("sends", "success", "failed", "pending", "not_sent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class ActivityPulse(BaseModel):
    """One In Progress activity on the dashboard."""

    id: int
    name: str
    owner_name: str
    is_public: bool
    channels: list[str]  # send component labels of its running version (and any that sent in the window)
    started_at: datetime | None  # start of its latest round
    totals: Totals


class ChannelSeries(BaseModel):
    """One channel (send component type): sends per hour over the window, oldest hour first."""

    type: str
    label: str
    category: str
    sends: list[int]
    success: list[int]
    failed: list[int]
    pending: list[int]
    totals: Totals


class Dashboard(BaseModel):
    since: datetime  # start of the first hour of the window
    until: datetime  # when it was read
    hours: list[datetime]  # the start of each of the HOURS hours
    in_progress: int
    totals: Totals
    activities: list[ActivityPulse]
    channels: list[ChannelSeries]


def window(now: datetime) -> list[datetime]:
    """The starts of the HOURS whole hours that end with the current one."""
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def dashboard(*, session: Session, actor: User, now: datetime | None = None,
              history: SendHistory | None = None) -> Dashboard:
    """What the actor may see running, with its sends of the last 24 hours (see the module docstring)."""
    now = now or clock.now()
    hours = window(now)
    since = hours[0]
    found = session.exec(
        select(Activity, User.display_name)
        .join(User, col(User.id) == Activity.owner_id)
        .where(visible_clause(actor), Activity.status == ActivityStatus.IN_PROGRESS)
        .order_by(col(Activity.name), col(Activity.id))
    ).all()
    activities = {row_id(a): (a, owner) for a, owner in found}
    rounds, activity_of, version_of = _rounds(session, list(activities), since)
    flows = _send_nodes(session, set(version_of.values())
                        | {a.live_version_id for a, _ in activities.values() if a.live_version_id})
    pairs = {(rid, node): node_type
             for rid, vid in version_of.items() for node, node_type in flows.get(vid, {}).items()}
    counts = (history or HISTORY).counts(session, rounds, list(pairs), since)

    slot = {h.strftime(HOUR_FORMAT): i for i, h in enumerate(hours)}
    per_activity: dict[int, Totals] = defaultdict(Totals)
    sent_types: dict[int, set[str]] = defaultdict(set)
    per_channel: dict[str, dict[str, list[int]]] = {}
    for (record_id, node_id), by_hour in counts.items():
        node_type = pairs[(record_id, node_id)]
        totals = per_activity[activity_of[record_id]]
        for (hour, result), n in by_hour.items():
            index = slot.get(hour)
            if index is None:  # a step stamped after "now" (clocks of other hosts): not in the window
                continue
            totals.add(result, n)
            sent_types[activity_of[record_id]].add(node_type)
            if result != "not_sent":
                series = per_channel.setdefault(node_type, {r: [0] * HOURS for r in RESULTS})
                series[result][index] += n

    latest = _latest_starts(session, list(activities))
    pulses: list[ActivityPulse] = []
    used: set[str] = set()
    overall = Totals()
    for activity_id, (activity, owner) in activities.items():
        types = set(flows.get(activity.live_version_id or -1, {}).values()) | sent_types[activity_id]
        used |= types
        overall.merge(per_activity[activity_id])
        pulses.append(ActivityPulse(
            id=activity_id, name=activity.name, owner_name=owner, is_public=activity.is_public,
            channels=[SEND_COMPONENTS[t].label for t in SEND_COMPONENTS if t in types],
            started_at=latest.get(activity_id), totals=per_activity[activity_id],
        ))
    channels = [_series(t, per_channel.get(t)) for t in SEND_COMPONENTS if t in used]
    return Dashboard(since=since, until=now, hours=hours, in_progress=len(pulses), totals=overall,
                     activities=pulses, channels=channels)


# ---------------------------------------------------------------- the queries


def _rounds(session: Session, activity_ids: list[int], since: datetime
            ) -> tuple[dict[int, Round], dict[int, int], dict[int, int]]:
    """The rounds that may have steps in the window — in progress, or ended inside it (a round writes steps
    only while it is in progress) — with each one's activity and version."""
    if not activity_ids:
        return {}, {}, {}
    rows = session.exec(  # sqlmodel's select is typed up to 4 columns: this one has 5
        select(ExecutionRecord.id, ExecutionRecord.activity_id, ExecutionRecord.version_id,  # type: ignore[call-overload]
               ExecutionRecord.started_at, ExecutionRecord.status)
        .where(col(ExecutionRecord.activity_id).in_(activity_ids), col(ExecutionRecord.is_test).is_(False),
               or_(col(ExecutionRecord.status) == RecordStatus.IN_PROGRESS, col(ExecutionRecord.ended_at).is_(None),
                   col(ExecutionRecord.ended_at) >= since))
    ).all()
    rounds = {int(rid): Round(id=int(rid), started_at=_aware(started), in_progress=status == RecordStatus.IN_PROGRESS)
              for rid, _aid, _vid, started, status in rows}
    return (rounds, {int(rid): int(aid) for rid, aid, *_ in rows},
            {int(rid): int(vid) for rid, _aid, vid, *_ in rows})


def _aware(when: datetime) -> datetime:
    """Datetimes come back naive from SQLite: they are UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _latest_starts(session: Session, activity_ids: list[int]) -> dict[int, datetime]:
    """activity id -> start of its latest round (also one older than the window)."""
    if not activity_ids:
        return {}
    rows = session.exec(select(ExecutionRecord.activity_id, func.max(ExecutionRecord.started_at))
                        .where(col(ExecutionRecord.activity_id).in_(activity_ids),
                               col(ExecutionRecord.is_test).is_(False))
                        .group_by(col(ExecutionRecord.activity_id))).all()
    return {int(aid): _aware(started) for aid, started in rows if started is not None}


def _send_nodes(session: Session, version_ids: set[int]) -> dict[int, dict[str, str]]:
    """version id -> {node id: send component type} of its flow."""
    if not version_ids:
        return {}
    out: dict[int, dict[str, str]] = {}
    for vid, flow in session.exec(select(ActivityVersion.id, ActivityVersion.flow)
                                  .where(col(ActivityVersion.id).in_(version_ids))).all():
        if vid is None:  # a primary key: never
            continue
        nodes: list[dict[str, Any]] = (flow or {}).get("nodes", [])
        out[vid] = {str(n["id"]): n["type"] for n in nodes
                         if isinstance(n, dict) and n.get("type") in SEND_COMPONENTS}
    return out


def _series(node_type: str, data: dict[str, list[int]] | None) -> ChannelSeries:
    component = SEND_COMPONENTS[node_type]
    data = data or {r: [0] * HOURS for r in RESULTS}
    sends = [sum(data[r][i] for r in RESULTS) for i in range(HOURS)]
    totals = Totals(sends=sum(sends), success=sum(data["success"]), failed=sum(data["failed"]),
                    pending=sum(data["pending"]))
    return ChannelSeries(type=node_type, label=component.label, category=component.category.value, sends=sends,
                         success=data["success"], failed=data["failed"], pending=data["pending"], totals=totals)


__all__ = ["HOURS", "ActivityPulse", "ChannelSeries", "Counts", "Dashboard", "Totals", "dashboard", "window"]
