"""The demo that moves: live demo activities published once through the services, periodic cycles missed while
the run command was off not replayed, and the demo traffic's shoppers and webhook CRM."""

import socket
import threading
from datetime import timedelta

import httpx
from sqlmodel import func, select
from starlette.testclient import TestClient

from engine import clock
from engine.api.app import create_app
from engine.db import read_session, write_session
from engine.demo import WORKSPACE, seed
from engine.demo_customers import seed_customers
from engine.demo_live import LIVE_ACTIVITIES, refresh_schedules, seed_live
from engine.demo_traffic import Shoppers, TrafficConfig, WebhookSink, session_events
from engine.flow.validate import validate_flow
from engine.models import Activity, ActivityVersion, BehaviorEvent, Customer, ExecutionRecord, Schedule, User, Workspace
from engine.runtime.lifecycle import next_cycle
from engine.status import ActivityStatus


def _demo() -> int:
    with write_session() as session:
        seed(session)
    with write_session() as session:
        seed_customers(session)
        return int(session.exec(select(Workspace.id).where(Workspace.name == WORKSPACE)).one())


def test_live_demo_activities_are_published_once_and_run_on_the_demo_audiences(database, redis_url) -> None:
    ws_id = _demo()
    with write_session() as session:
        created = seed_live(session, session.get(Workspace, ws_id))
    assert len(created) == len(LIVE_ACTIVITIES) == 4
    with write_session() as session:
        assert seed_live(session, session.get(Workspace, ws_id)) == []  # idempotent
    with read_session() as session:
        for live in LIVE_ACTIVITIES:
            activity = session.exec(select(Activity).where(Activity.name == live.name)).one()
            owner = session.get(User, activity.owner_id)
            assert (owner.username, activity.is_public, activity.schedule) == (live.owner, live.public, live.schedule)
            assert activity.status == ActivityStatus.IN_PROGRESS
            flow = session.get(ActivityVersion, activity.live_version_id).flow
            assert validate_flow(flow) == []
            records = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity.id)).all()
            assert len(records) == 1 and records[0].dispatched_at is None  # the scheduler hands it to the workers
        audiences = {n["config"].get("audience_id") for a in LIVE_ACTIVITIES for n in a.flow["nodes"]} - {None}
        assert audiences == {"{audience:VIP list}", "{audience:Overseas customers}"}
        periodic = session.exec(select(Activity).where(Activity.name == LIVE_ACTIVITIES[0].name)).one()
        assert (periodic.schedule, periodic.schedule_every) == (Schedule.MINUTES, 15)


def test_missed_periodic_cycles_are_not_replayed(database, redis_url) -> None:
    with write_session() as session:
        seed(session)  # fabricated periodic activities In Progress: no next cycle set
    with write_session() as session:
        ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).one()
        moved = refresh_schedules(session, ws)
    now = clock.now()
    with read_session() as session:
        periodic = session.exec(select(Activity).where(Activity.status == ActivityStatus.IN_PROGRESS,
                                                       Activity.schedule != Schedule.ONCE)).all()
        assert moved == len(periodic) >= 5
        for activity in periodic:  # the next cycle is one period from now, not days in the past
            due = activity.next_run_at.replace(tzinfo=now.tzinfo)
            assert now < due <= next_cycle(activity, now) + timedelta(seconds=5), activity.name

    week_later = now + timedelta(days=7)
    clock.set_clock(lambda: week_later)
    with write_session() as session:
        ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).one()
        weekly_or_faster = sum(1 for a in periodic if a.schedule != Schedule.MONTHLY)
        assert refresh_schedules(session, ws) == weekly_or_faster  # a week away: those overdue moved, none replayed
        assert refresh_schedules(session, ws) == 0  # idempotent
        minutes = session.exec(select(Activity).where(Activity.schedule == Schedule.MINUTES,
                                                      Activity.workspace_id == ws.id)).one()
        assert minutes.schedule_every == 30  # the demo's "every N minutes" activity is not a flood
        # a cycle due within its period is left for the scheduler to run
        minutes.next_run_at = week_later - timedelta(minutes=5)
        session.add(minutes)
    with write_session() as session:
        assert refresh_schedules(session, session.get(Workspace, minutes.workspace_id)) == 0


def test_demo_shoppers_post_sessions_the_api_accepts(database, redis_url) -> None:
    _demo()
    with read_session() as session:
        events_before = session.exec(select(func.count()).select_from(BehaviorEvent)).one()
        customers_before = session.exec(select(func.count()).select_from(Customer)).one()
    config = TrafficConfig(api_url="http://testserver", rate=0, new_visitor_rate=0.3, seed=7)
    shoppers = Shoppers(config, threading.Event(), client=TestClient(create_app()))
    posted = 0
    for _ in range(20):
        events = shoppers.next_session()
        assert shoppers.post(events)
        posted += len(events)
    with read_session() as session:
        assert session.exec(select(func.count()).select_from(BehaviorEvent)).one() == events_before + posted
        names = set(session.exec(select(BehaviorEvent.name).distinct()).all())
        new = session.exec(select(func.count()).select_from(Customer)).one() - customers_before
    assert {"login", "browse_h5"} <= names
    assert new == shoppers.visitors > 0  # a new visitor becomes a (minimal) customer


def test_a_session_is_a_plausible_sequence() -> None:
    import random

    rng = random.Random(1)
    for _ in range(200):
        events = session_events(rng, "QA10000001")
        names = [e["name"] for e in events]
        assert names[0] == "login" and 1 <= names.count("browse_h5") <= 4
        if "purchase" in names:
            assert names.index("add_to_cart") < names.index("purchase")
    assert session_events(rng, "WEB-1", new=True)[0]["name"] == "register_app"


def test_the_demo_crm_accepts_webhooks_and_refuses_unknown_customers_consistently() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = WebhookSink(port, failure_rate=0.3).start()
    try:
        bodies = [{"customer_id": i, "qaid": f"QA{i}"} for i in range(60)]
        codes = [httpx.post(f"http://127.0.0.1:{port}/hook", json=b).status_code for b in bodies]
        assert set(codes) == {200, 422} and 5 < codes.count(422) < 35
        again = [httpx.post(f"http://127.0.0.1:{port}/hook", json=b).status_code for b in bodies]
        assert again == codes  # the same customers every time
        assert sink.received == 120 and sink.refused == 2 * codes.count(422)
    finally:
        sink.close()
