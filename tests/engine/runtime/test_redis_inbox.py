"""Receipts and behaviour events accepted while Redis is down are kept in the database inbox and applied once it
returns (engine/runtime/inbox.py): a real redis-server, stopped and started again, behind the API as the run
command serves it (runtime hooks installed)."""

from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from engine.api.app import create_app
from engine.api.keys import set_api_key
from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import CustomerStep, ExecutionRecord, Role, User
from engine.runtime import inbox
from engine.runtime.connection import get_redis
from engine.runtime.rounds import start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore
from engine.scheduler import Scheduler
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.conftest import RECEIPT_TOKEN
from tests.engine.runtime import support as s

KEY = "amk_test_inbox_key_00000000000001"


@pytest.fixture
def client(database: str, persistent_redis, sim, monkeypatch) -> Iterator[TestClient]:
    from engine.api.app import install_hooks

    monkeypatch.setenv("PROVIDER_URL", sim.url)
    get_settings.cache_clear()
    reset_channels()
    uninstall = install_hooks()
    receipts_auth = {"Authorization": f"Bearer {RECEIPT_TOKEN}"}  # receipts always need the token
    with TestClient(create_app(), raise_server_exceptions=False, headers=receipts_auth) as c:
        yield c
    uninstall()
    reset_channels()


def _pending_sms(record_id: int) -> list[int]:
    with read_session() as session:
        return sorted(session.exec(select(CustomerStep.customer_id).where(
            CustomerStep.record_id == record_id, CustomerStep.node_id == "sms",
            CustomerStep.result == "pending")).all())


def _result(record_id: int, customer_id: int) -> str:
    with read_session() as session:
        step = session.get(CustomerStep, (record_id, "sms", customer_id))
        assert step is not None
        return step.result


def test_receipts_posted_while_redis_is_down_are_kept_and_applied_when_it_returns(client, persistent_redis) -> None:
    activity_id, _ = s.seed_activity(30)
    record_id = s.records(activity_id)[0].id
    s.run_in_process(record_id)  # every SMS accepted by the provider: pending, no receipt yet
    first, second, *_ = _pending_sms(record_id)
    store = RoundStore(get_redis())
    before = store.counters(record_id)["sms"]
    persistent_redis.stop()
    receipts = [{"message_id": f"{record_id}:sms:{first}", "status": "delivered"},
                {"message_id": f"{record_id}:sms:{second}", "status": "failed", "reason": "unreachable"}]
    response = client.post("/api/v1/receipts", json={"receipts": receipts})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2, "stored": True, "kept": True}
    bad = client.post("/api/v1/receipts", json=[{"message_id": "nope", "status": "delivered"}])
    assert bad.status_code == 422  # still validated: a bad receipt is refused, not kept
    assert inbox.pending_count() == 1 and _result(record_id, first) == "pending"
    persistent_redis.start()
    scheduler = Scheduler(dispatch=lambda rid: None, resume=lambda *a: None, store=store)
    s.wait_for(lambda: inbox.pending_count() == 0, 30, tick=scheduler.tick, what="the inbox to drain")
    assert (_result(record_id, first), _result(record_id, second)) == ("success", "failed")
    sms = store.counters(record_id)["sms"]
    assert sms["success"] == before["success"] + 1 and sms["failed"] == before["failed"] + 1
    assert sms["pending"] == before["pending"] - 2 and sms["sent"] == before["sent"]
    # Redis is back: receipts go straight through again
    third = _pending_sms(record_id)[0]
    again = client.post("/api/v1/receipts", json=[{"message_id": f"{record_id}:sms:{third}", "status": "delivered"}])
    assert again.json() == {"accepted": 1, "stored": True} and _result(record_id, third) == "success"


def _event_activity() -> tuple[int, int]:
    flow = {"nodes": [{"id": "ev", "type": "behavior_event", "config": {"event": "add_to_cart", "times": 1,
                                                                          "window_hours": 1}},
                      {"id": "sms", "type": "text_sms", "config": {"content": "Your cart, {name}"}},
                      {"id": "e", "type": "end", "config": {}}],
            "edges": [{"source": "ev", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "e"}]}
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        set_api_key(session=session, workspace_id=ws.id, key=KEY)
        upsert_customers(session=session, workspace_id=ws.id,
                         rows=[{"qaid": f"E{i}", "name": f"E{i}", "phone": f"+8613900{i:06d}"} for i in range(5)])
        activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Cart"), flow=flow)
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
        return int(activity.id), int(ws.id)


def test_events_posted_while_redis_is_down_enter_the_round_when_it_returns(client, persistent_redis) -> None:
    activity_id, _ = _event_activity()
    store = RoundStore(get_redis())
    walks: list[tuple[int, str, str]] = []
    dispatched: list[int] = []
    scheduler = Scheduler(dispatch=dispatched.append, resume=lambda *a: None, store=store,
                          enter=lambda r, n, b: walks.append((r, n, b)))
    scheduler.tick()
    [record_id] = dispatched
    start_round(record_id, enqueue=lambda *a: None, store=store)  # an open, event-triggered round
    persistent_redis.stop()
    events = [{"qaid": f"E{i}", "name": "add_to_cart"} for i in range(3)]
    response = client.post("/api/v1/events", json=events, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 3 and inbox.pending_count() == 1
    persistent_redis.start()
    s.wait_for(lambda: inbox.pending_count() == 0, 30, tick=scheduler.tick, what="the inbox to drain")
    assert [(r, n) for r, n, _ in walks] == [(record_id, "ev")]  # one micro-batch of the three customers
    run_step(record_id, "ev", walks[0][2], store=store)
    assert store.counters(record_id)["sms"]["entered"] == 3
    with read_session() as session:
        assert session.get(ExecutionRecord, record_id).status == "in_progress"
