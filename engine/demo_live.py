"""Demo activities that really run, so a newcomer sees the Dashboard and the canvases move.

`engine.demo` fabricates a history (~40 activities, their versions and past execution records); its In
Progress activities are then really run by the engine. This module adds activities created and published
through the services, exactly as a marketer would, on the demo audiences and events, covering channels the
older ones hardly use (WeChat, email) and every kind of schedule:

- a periodic one (every 15 minutes, the VIP list, WeChat);
- a one-time one whose round stays In Progress for half an hour (push now, an email 30 minutes later);
- two event-triggered ones fed by `python -m engine.demo_traffic` (browsing → email, purchases → the demo
  CRM's webhook), private to a marketer and to an admin, so the roles see different dashboards.

`refresh_schedules` keeps the demo's periodic activities from replaying every cycle they missed while the run
command was stopped (the engine starts missed cycles one by one, which is right for a real campaign but
would make a demo left for a week send for hours): a cycle more than one period overdue is moved to the next
period from now. Both are idempotent and run by `python -m engine.demo` on every start.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from engine import clock
from engine.models import Activity, Audience, Schedule, User, Workspace, row_id
from engine.runtime.lifecycle import next_cycle
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.status import ActivityStatus


@dataclass(frozen=True)
class LiveActivity:
    name: str
    owner: str  # username
    public: bool
    description: str
    flow: dict[str, Any]  # "{audience:<name>}" in a Target Audience config is replaced by that audience's id
    schedule: Schedule = Schedule.ONCE
    every: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def _node(nid: str, type_: str, x: int, y: int = 60, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}


def _edge(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def _chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": list(nodes), "edges": [_edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:], strict=False)]}


LIVE_ACTIVITIES: list[LiveActivity] = [
    LiveActivity(
        "VIP WeChat check-in every 15 min", "marketer", True, "Live demo: a periodic round on the VIP list",
        _chain(_node("t", "target_audience", 0, audience_id="{audience:VIP list}"),
               _node("w", "wechat_message", 260, content="Hi {name}, your VIP lounge has new arrivals this hour."),
               _node("e", "end", 520)),
        schedule=Schedule.MINUTES, every=15),
    LiveActivity(
        "Overseas welcome: push now, email in 30 min", "marketer2", True,
        "Live demo: a one-time round that stays In Progress while customers wait",
        _chain(_node("t", "target_audience", 0, audience_id="{audience:Overseas customers}"),
               _node("p", "app_push", 240, title="Welcome aboard", body="Free shipping abroad this week, {name}"),
               _node("wait", "wait_until", 480, mode="period", minutes=30),
               _node("m", "email", 720, subject="Still thinking it over, {name}?",
                     body="Your overseas free-shipping code: WELCOME30"),
               _node("e", "end", 960))),
    LiveActivity(
        "Browse follow-up email", "marketer", False, "Live demo: three page views within an hour trigger an email",
        _chain(_node("b", "behavior_event", 0, event="browse_h5", times=3, window_hours=1),
               _node("m", "email", 260, subject="Picked for you, {name}", body="We saved what you looked at."),
               _node("e", "end", 520))),
    LiveActivity(
        "Purchase feed to the CRM", "admin", False, "Live demo: every purchase goes to the CRM by webhook",
        _chain(_node("b", "behavior_event", 0, event="purchase", times=1, window_hours=1),
               _node("h", "webhook", 260, url="http://127.0.0.1:8099/hook", fields=["name", "attributes"]),
               _node("e", "end", 520))),
]


def _resolve(flow: dict[str, Any], audiences: dict[str, int]) -> dict[str, Any] | None:
    """The flow with audience names replaced by ids; None when an audience is missing."""
    nodes = []
    for n in flow["nodes"]:
        config = dict(n["config"])
        ref = config.get("audience_id")
        if isinstance(ref, str) and ref.startswith("{audience:"):
            found = audiences.get(ref[len("{audience:"):-1])
            if found is None:
                return None
            config["audience_id"] = found
        nodes.append({**n, "config": config})
    return {"nodes": nodes, "edges": flow["edges"]}


def seed_live(session: Session, workspace: Workspace) -> list[int]:
    """Create and publish the live demo activities the workspace lacks (by name); returns the new ids."""
    existing = set(session.exec(select(Activity.name).where(Activity.workspace_id == workspace.id)).all())
    users = {u.username: u for u in session.exec(select(User).where(User.workspace_id == workspace.id)).all()}
    audiences = {a.name: row_id(a) for a in session.exec(
        select(Audience).where(Audience.workspace_id == workspace.id)).all()}
    created: list[int] = []
    for live in LIVE_ACTIVITIES:
        owner = users.get(live.owner)
        flow = _resolve(live.flow, audiences)
        if live.name in existing or owner is None or flow is None:
            continue
        activity = svc.create_activity(session=session, actor=owner, flow=flow, data=ActivityInput(
            name=live.name, description=live.description, schedule=live.schedule, schedule_every=live.every))
        activity.is_public = live.public
        session.add(activity)
        svc.publish(session=session, actor=owner, activity_id=row_id(activity))
        created.append(row_id(activity))
    return created


def refresh_schedules(session: Session, workspace: Workspace) -> int:
    """Move the demo's periodic cycles that are more than one period overdue to the next period from now;
    returns how many moved."""
    now = clock.now()
    moved = 0
    for activity in session.exec(select(Activity).where(
            Activity.workspace_id == workspace.id, Activity.status == ActivityStatus.IN_PROGRESS,
            Activity.schedule != Schedule.ONCE)).all():
        due = activity.next_run_at
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=now.tzinfo)
        if due is None or next_cycle(activity, due) < now:
            activity.next_run_at = next_cycle(activity, now)
            session.add(activity)
            moved += 1
    return moved
