"""Demo data: one workspace, the documented users, groups three levels deep, a campaign catalogue and ~40
activities over every status and owner, with versions and execution records. Idempotent: run it any time.

    python -m engine.demo

The ~40 activities and their past records are a fabricated history; when the engine starts, their In Progress
rounds really run. `main` then adds the customers (engine.demo_customers) and the live demo activities
(engine.demo_live: published through the services, on the demo audiences and behaviour events), and keeps the
demo's periodic activities from replaying every cycle missed while the run command was stopped.
"""

import random
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from engine import clock
from engine.db import write_session
from engine.demo_customers import WORKSPACE, seed_customers
from engine.demo_live import refresh_schedules, seed_live
from engine.models import (
    Activity,
    ActivityCampaignLink,
    ActivityGroup,
    ActivityVersion,
    ExecutionRecord,
    MarketingCampaign,
    RecordTrigger,
    Role,
    Schedule,
    User,
    Workspace,
    row_id,
)
from engine.models.record import CROWD_DATA_FAILURE
from engine.services.activities import sync_audiences
from engine.services.auth import hash_password
from engine.services.message_templates import create_template
from engine.services.outbound_allow import ensure_entry
from engine.services.processes import save_process
from engine.status import ActivityStatus, RecordStatus, VersionState

DEMO_CRM = "127.0.0.1:8099"  # where the demo flows' webhooks go (engine/demo_traffic.py's sink)
#: a retailer in China: its people type times in Shanghai time (the inputs show the UTC they mean)
TIME_ZONE = "Asia/Shanghai"
#: username, password, display name, role — documented in the README
USERS = [
    ("admin", "admin123", "Ada Admin", Role.ADMIN),
    ("marketer", "marketer123", "Mia Marketer", Role.MARKETER),
    ("marketer2", "marketer123", "Leo Marketer", Role.MARKETER),
    ("manager", "manager123", "Max Manager", Role.MANAGER),
    ("reviewer", "reviewer123", "Rita Reviewer", Role.REVIEWER),  # seed 004: approves requests to go live
]
GROUPS: dict[str, Any] = {
    "Member Growth": {"New Members": {"First Order": {}, "Welcome Series": {}}, "Loyalty": {}},
    "Festivals": {"Double 11": {"Warm-up": {}}, "618 Mid-year": {}, "Spring Festival": {}},
    "Retention": {"Win-back": {"High Value": {}, "Dormant 90d": {}}},
    "Experiments": {},
}
CAMPAIGNS = {
    "Double 11 2026": ["D11 Warm-up", "D11 Main Day", "D11 Return Visit"],
    "Member Day": ["Member Day SMS", "Member Day App"],
    "Always-on CRM": ["Onboarding", "Re-purchase", "Win-back"],
}
S = ActivityStatus
#: the demo's "every N minutes" activity sends to all members: every half hour, not every minute
MINUTES_EVERY = 30
# name, owner, status, group path, public, template, versions, schedule
ACTIVITIES: list[tuple[str, str, ActivityStatus, str | None, bool, str | None, int, Schedule]] = [
    ("New member first-order coupon", "marketer", S.IN_PROGRESS, "First Order", True, "new_member_first_order", 2,
     Schedule.ONCE),
    ("Welcome SMS day 0", "marketer", S.IN_PROGRESS, "Welcome Series", True, None, 1, Schedule.DAILY),
    ("Welcome email day 3", "marketer", S.NOT_STARTED, "Welcome Series", False, None, 1, Schedule.ONCE),
    ("First purchase re-purchase nudge", "marketer", S.IN_PROGRESS, "Loyalty", True, "first_purchase_repurchase",
     3, Schedule.ONCE),
    ("Loyalty points expiry reminder", "marketer2", S.IN_PROGRESS, "Loyalty", True, None, 1, Schedule.MONTHLY),
    ("Double 11 warm-up teaser", "marketer", S.COMPLETED, "Warm-up", True, None, 2, Schedule.ONCE),
    ("Double 11 main day blast", "marketer", S.NOT_STARTED, "Double 11", True, None, 1, Schedule.ONCE),
    ("Double 11 return visit", "marketer2", S.DRAFT, "Double 11", False, None, 1, Schedule.ONCE),
    ("Double 11 cart abandoners", "marketer2", S.IN_PROGRESS, "Double 11", False, None, 1, Schedule.HOURLY),
    ("618 flash sale SMS", "marketer", S.COMPLETED, "618 Mid-year", True, None, 1, Schedule.ONCE),
    ("618 app push countdown", "marketer", S.ABNORMAL_END, "618 Mid-year", True, None, 1, Schedule.ONCE),
    ("618 VIP early access", "admin", S.COMPLETED, "618 Mid-year", False, None, 2, Schedule.ONCE),
    ("Spring Festival greetings", "admin", S.STOPPED, "Spring Festival", True, None, 1, Schedule.ONCE),
    ("Spring Festival red packets", "marketer2", S.DRAFT, "Spring Festival", True, None, 1, Schedule.ONCE),
    ("High-value low-frequency win-back", "marketer", S.IN_PROGRESS, "High Value", True,
     "high_value_low_frequency", 1, Schedule.ONCE),
    ("Dormant 90 days coupon", "marketer", S.STOPPED, "Dormant 90d", False, None, 2, Schedule.ONCE),
    ("Dormant 90 days WeChat", "marketer2", S.ABNORMAL_END, "Dormant 90d", True, None, 1, Schedule.DAILY),
    ("Win-back survey", "marketer", S.DRAFT, "Win-back", False, None, 1, Schedule.ONCE),
    ("AB test: subject lines", "marketer", S.IN_PROGRESS, "Experiments", True, None, 1, Schedule.ONCE),
    ("Random coupon values 20/30/50", "marketer2", S.COMPLETED, "Experiments", True, None, 1, Schedule.ONCE),
    ("Webhook to CRM sync", "admin", S.IN_PROGRESS, "Experiments", False, None, 1, Schedule.MINUTES),
    ("Kafka export of buyers", "admin", S.DRAFT, "Experiments", False, None, 1, Schedule.ONCE),
    ("Birthday month coupon", "marketer", S.IN_PROGRESS, None, True, None, 1, Schedule.MONTHLY),
    ("Payday weekend push", "marketer", S.NOT_STARTED, None, False, None, 1, Schedule.ONCE),
    ("Store opening invite — Shanghai", "marketer2", S.COMPLETED, None, True, None, 1, Schedule.ONCE),
    ("Store opening invite — Shenzhen", "marketer2", S.STOPPED, None, True, None, 1, Schedule.ONCE),
    ("Price drop alert", "marketer", S.ABNORMAL_END, None, False, None, 2, Schedule.ONCE),
    ("Back in stock alert", "marketer", S.DRAFT, None, True, None, 1, Schedule.ONCE),
    ("Review request after delivery", "marketer2", S.IN_PROGRESS, None, True, None, 1, Schedule.DAILY),
    ("Member Day SMS wave 1", "marketer", S.COMPLETED, "Member Growth", True, None, 1, Schedule.ONCE),
    ("Member Day SMS wave 2", "marketer", S.STOPPED, "Member Growth", True, None, 1, Schedule.ONCE),
    ("Member Day app banner", "admin", S.NOT_STARTED, "Member Growth", True, None, 1, Schedule.ONCE),
    ("Referral programme kickoff", "admin", S.DRAFT, "Member Growth", True, None, 1, Schedule.ONCE),
    ("Quarterly NPS survey", "marketer2", S.NOT_STARTED, "Retention", False, None, 1, Schedule.MONTHLY),
    ("Churn-risk tag & email", "marketer", S.IN_PROGRESS, "Retention", True, None, 1, Schedule.ONCE),
    ("Subscription renewal reminder", "marketer2", S.ABNORMAL_END, "Retention", False, None, 1, Schedule.ONCE),
    ("Abandoned browse follow-up", "marketer", S.STOPPED, "Festivals", True, None, 1, Schedule.ONCE),
    ("Festival lucky draw", "marketer2", S.COMPLETED, "Festivals", True, None, 1, Schedule.ONCE),
    ("Holiday opening hours notice", "admin", S.COMPLETED, "Festivals", True, None, 1, Schedule.ONCE),
    ("Clearance sale last call", "marketer", S.DRAFT, "Festivals", False, None, 1, Schedule.ONCE),
    ("Weekly style picks", "marketer", S.PAUSED, "Loyalty", True, None, 1, Schedule.DAILY),
    ("New arrivals pilot", "marketer", S.TESTING, "Festivals", True, None, 1, Schedule.ONCE),  # seed 004
]


def demo_flow(kind: int) -> dict[str, Any]:
    """Three valid flow shapes: audience → SMS → end; audience → tag judgment → SMS / email / end;
    behaviour event → random grouping → push / wait → webhook → end."""
    def node(nid: str, type_: str, x: int, y: int, **config: Any) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}

    def edge(src: str, dst: str, branch: str = "out") -> dict[str, str]:
        return {"source": src, "branch": branch, "target": dst}

    if kind == 0:
        return {"nodes": [node("n1", "target_audience", 0, 0, audience_id=1),
                          node("n2", "text_sms", 240, 0, content="Hi {name}, your coupon: {short_link}",
                               link_url="https://shop.example.com/coupon"),
                          node("n3", "end", 480, 0)],
                "edges": [edge("n1", "n2"), edge("n2", "n3")]}
    if kind == 1:
        groups = [{"tag": "gender", "op": "eq", "value": "female"}, {"tag": "gender", "op": "eq", "value": "male"}]
        return {"nodes": [node("n1", "target_audience", 0, 120, audience_id=2),
                          node("n2", "tag_judgment", 240, 120, groups=groups),
                          node("n3", "text_sms", 480, 0, content="Exclusive offer for you, {name}"),
                          node("n4", "email", 480, 120, subject="Picked for you", body="Hello {name}"),
                          node("n5", "end", 720, 0), node("n6", "end", 720, 120), node("n7", "end", 480, 240)],
                "edges": [edge("n1", "n2"), edge("n2", "n3", "group_1"), edge("n2", "n4", "group_2"),
                          edge("n2", "n7", "others"), edge("n3", "n5"), edge("n4", "n6")]}
    return {"nodes": [node("n1", "behavior_event", 0, 60, event="add_to_cart", times=1, window_hours=24),
                      node("n2", "random_grouping", 240, 60, groups=[{"ratio": 50}, {"ratio": 50}]),
                      node("n3", "app_push", 480, 0, title="Still thinking?", body="Your cart misses you"),
                      node("n4", "wait_until", 480, 120, mode="period", hours=2),
                      node("n5", "webhook", 720, 60, url=f"http://{DEMO_CRM}/hook"),
                      node("n6", "end", 960, 60)],
            "edges": [edge("n1", "n2"), edge("n2", "n3", "group_1"), edge("n2", "n4", "group_2"),
                      edge("n3", "n5"), edge("n4", "n5"), edge("n5", "n6")]}


def _groups(session: Session, ws: Workspace, tree: dict[str, Any], parent: ActivityGroup | None,
            out: dict[str, ActivityGroup]) -> None:
    for position, (name, children) in enumerate(tree.items()):
        group = ActivityGroup(workspace_id=row_id(ws), name=name, parent_id=parent.id if parent else None,
                              position=position)
        session.add(group)
        session.flush()
        out[name] = group
        _groups(session, ws, children, group, out)


def _records(session: Session, activity: Activity, version: ActivityVersion, rng: random.Random) -> None:
    """Execution records consistent with the activity's status."""
    now = clock.now()
    finals = {S.COMPLETED: RecordStatus.COMPLETED, S.ABNORMAL_END: RecordStatus.ABNORMAL_END,
              S.STOPPED: RecordStatus.STOPPED, S.IN_PROGRESS: RecordStatus.IN_PROGRESS,
              S.PAUSED: RecordStatus.COMPLETED}  # a paused activity's rounds finished: none starts until Resume
    if activity.status not in finals:
        return
    rounds = 3 if activity.schedule != Schedule.ONCE else 1
    for number in range(1, rounds + 1):
        last = number == rounds
        started = now - timedelta(days=(rounds - number) * 1 + 1, hours=rng.randint(1, 12))
        status = finals[activity.status] if last else RecordStatus.COMPLETED
        record = ExecutionRecord(
            activity_id=row_id(activity), version_id=row_id(version), number=number, status=status,
            trigger=RecordTrigger.PUBLISH if number == 1 else RecordTrigger.SCHEDULE, started_at=started,
            ended_at=None if status == RecordStatus.IN_PROGRESS else started + timedelta(minutes=rng.randint(5, 90)),
        )
        if status == RecordStatus.ABNORMAL_END:
            record.failure_kind = CROWD_DATA_FAILURE
            record.failure_reason = "Failed to obtain crowd data: the audience could not be materialised."
        session.add(record)
    activity.runs_used = rounds


#: the demo's reusable process and the public activity it is saved from (audience → SMS → End)
DEMO_PROCESS = "Audience coupon SMS"
DEMO_PROCESS_SOURCE = "First purchase re-purchase nudge"
#: (channel, name, subject, content) of the demo's message templates, public, made by the marketer
DEMO_TEMPLATES = [
    ("text_sms", "Coupon reminder", "", "Hi {name}, your coupon ends tonight: {short_link}"),
    ("email", "Welcome email", "Welcome to the shop, {name}",
     "Hello {name},\n\nThanks for joining. Members in {city} get free delivery this month."),
    ("app_push", "Back in stock", "Back in stock", "{name}, the item on your wish list is back."),
]


def seed(session: Session) -> bool:
    """Create the demo workspace unless it exists; returns True when it created it."""
    # the demo's webhooks go to its own CRM on loopback: allow-listed explicitly (engine/outbound.py), also for
    # a demo database loaded before the fence existed
    ensure_entry(session=session, entry=DEMO_CRM, note="the demo CRM (engine/demo_traffic.py)")
    if session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).first():
        return False
    rng = random.Random(7)
    ws = Workspace(name=WORKSPACE, time_zone=TIME_ZONE)
    session.add(ws)
    session.flush()
    users: dict[str, User] = {}
    for username, password, display, role in USERS:
        users[username] = User(workspace_id=row_id(ws), username=username, display_name=display, role=role,
                               password_hash=hash_password(password, rounds=10))
        session.add(users[username])
    session.flush()
    groups: dict[str, ActivityGroup] = {}
    _groups(session, ws, GROUPS, None, groups)
    subs: list[MarketingCampaign] = []
    for primary_name, sub_names in CAMPAIGNS.items():
        primary = MarketingCampaign(workspace_id=row_id(ws), name=primary_name)
        session.add(primary)
        session.flush()
        for sub_name in sub_names:
            sub = MarketingCampaign(workspace_id=row_id(ws), name=sub_name, parent_id=primary.id)
            session.add(sub)
            subs.append(sub)
    session.flush()
    now = clock.now()
    for i, (name, owner, status, group, public, template, n_versions, schedule) in enumerate(ACTIVITIES):
        created = now - timedelta(days=40 - i, hours=rng.randint(0, 20))
        activity = Activity(
            workspace_id=row_id(ws), name=name, description=f"{name} — demo activity", owner_id=row_id(users[owner]),
            is_public=public, group_id=groups[group].id if group else None, status=status,
            schedule=schedule, template_key=template, created_at=created,
            schedule_every=MINUTES_EVERY if schedule == Schedule.MINUTES else 1,
            updated_at=min(now, created + timedelta(days=rng.randint(0, 5), hours=rng.randint(0, 23))),
            start_time=now + timedelta(days=rng.randint(1, 10)) if status == S.NOT_STARTED else None,
            end_time=now + timedelta(days=30) if schedule != Schedule.ONCE else None,
        )
        session.add(activity)
        session.flush()
        for sub in rng.sample(subs, k=rng.randint(0, 2)):
            session.add(ActivityCampaignLink(activity_id=row_id(activity), campaign_id=row_id(sub)))
        version = None
        for number in range(1, n_versions + 1):
            published = status not in (S.DRAFT, S.TESTING)
            version = ActivityVersion(
                activity_id=row_id(activity), number=number, flow=demo_flow((i + number) % 3),
                author_id=row_id(users[owner]), created_at=created + timedelta(hours=number),
                state=VersionState.PUBLISHED if published else VersionState.DRAFT,
                published_at=created + timedelta(hours=number) if published else None,
            )
            session.add(version)
            session.flush()
            sync_audiences(session, version)
        assert version is not None
        activity.current_version_id = version.id
        activity.live_version_id = version.id if status not in (S.DRAFT, S.TESTING) else None
        activity.published_at = version.published_at
        _records(session, activity, version, rng)
        session.add(activity)
    session.flush()
    # one reusable process (New from Template lists it under the templates), saved by its marketer
    source = session.exec(select(Activity).where(Activity.workspace_id == ws.id,
                                                 Activity.name == DEMO_PROCESS_SOURCE)).one()
    save_process(session=session, actor=users["marketer"], activity_id=row_id(source), name=DEMO_PROCESS,
                 description="An audience gets an SMS with a coupon link.")
    for channel, name, subject, content in DEMO_TEMPLATES:  # the Message templates page (/templates/messages)
        create_template(session=session, actor=users["marketer"], channel=channel, name=name, subject=subject,
                        content=content)
    return True


def main() -> None:
    with write_session() as session:
        created = seed(session)
    with write_session() as session:
        customers = seed_customers(session)
    with write_session() as session:
        ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).one()
        live = seed_live(session, ws)
        moved = refresh_schedules(session, ws)
    print("demo data created" if created else "demo data already present",
          "(with customers, events and audiences)" if customers else "",
          f"· {len(live)} live demo activities published" if live else "",
          f"· {moved} periodic schedules moved to now" if moved else "")


if __name__ == "__main__":
    main()
