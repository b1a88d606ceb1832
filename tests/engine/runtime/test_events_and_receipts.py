"""Behaviour events posted to the real HTTP API make customers enter an event-triggered activity within a
second; provider receipts posted back by the simulator turn pending sends into successes and failures."""

import time

import httpx
from sqlmodel import select

from engine.api.keys import set_api_key
from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role, User
from engine.runtime.details import all_steps
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f

KEY = "amk_test_events_key_000000000001"


def event_flow() -> dict:
    """Behaviour Event (add_to_cart) → Attribute Judgment (amount > 100) → Text SMS → Result Judgment → End."""
    return {
        "nodes": [
            {"id": "ev", "type": "behavior_event", "config": {"event": "add_to_cart", "times": 1, "window_hours": 1}},
            {"id": "aj", "type": "attribute_judgment", "config": {"groups": [
                {"name": "big cart", "conditions": [{"property": "amount", "op": "gt", "value": 100}]}]}},
            {"id": "sms", "type": "text_sms", "config": {"content": "Your cart of {name} is waiting"}},
            {"id": "e1", "type": "end", "config": {}},
            {"id": "e2", "type": "end", "config": {}},
        ],
        "edges": [{"source": "ev", "branch": "out", "target": "aj"},
                  {"source": "aj", "branch": "group_1", "target": "sms"},
                  {"source": "aj", "branch": "others", "target": "e2"},
                  {"source": "sms", "branch": "out", "target": "e1"}],
    }


def test_events_enter_within_a_second_and_receipts_settle_the_sends(engine, api, simulator) -> None:
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        set_api_key(session=session, workspace_id=ws.id, key=KEY)
        upsert_customers(session=session, workspace_id=ws.id,
                         rows=[{"qaid": f"E{i}", "name": f"E{i}", "phone": f"+8613900{i:06d}"} for i in range(20)])
        activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Cart"), flow=event_flow())
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
    engine.scheduler.tick()  # dispatches the (open) round
    httpx.post(f"{simulator.url}/admin/config", json={"callback_url": f"{api}/api/v1/receipts",
                                                      "receipt_delay": 0.05})
    headers = {"Authorization": f"Bearer {KEY}"}
    bad = httpx.post(f"{api}/api/v1/events", json={"events": [{"qaid": "E1"}]}, headers=headers)
    assert bad.status_code == 422
    assert httpx.post(f"{api}/api/v1/events", json={"qaid": "E1", "name": "add_to_cart"}).status_code == 401
    events = [{"qaid": f"E{i}", "name": "add_to_cart", "properties": {"amount": 50 + i * 10}} for i in range(20)]
    posted = time.monotonic()
    response = httpx.post(f"{api}/api/v1/events", json={"events": events}, headers=headers)
    assert response.status_code == 202, response.text

    def steps_at(node: str) -> int:
        with read_session() as session:
            record_ids = session.exec(select(ExecutionRecord.id)).all()
            return sum(1 for rid in record_ids for step in all_steps(session, rid) if step.node_id == node)

    while steps_at("ev") < 20 and time.monotonic() - posted < 30:
        engine.worker.join()
        time.sleep(0.01)
    assert steps_at("ev") == 20  # picked up without any scheduler tick (how fast: bench/latency.py)
    engine.run_until(lambda: steps_at("e1") + steps_at("e2") == 20, tick=False)
    with read_session() as session:
        record = session.exec(select(ExecutionRecord)).one()
    counters = engine.store.counters(record.id)
    big = [i for i in range(20) if 50 + i * 10 > 100]
    assert counters["aj"]["passed"] == len(big) and counters["sms"]["entered"] == len(big)
    # the same events again: a customer enters a round once
    assert httpx.post(f"{api}/api/v1/events", json={"events": events}, headers=headers).status_code == 202
    engine.run_until(lambda: True, tick=False)
    assert engine.store.counters(record.id)["ev"]["entered"] == 20
    # receipts: the simulator posts them back to the API; pending turns into success / failed
    deadline = time.monotonic() + 10
    while engine.store.counters(record.id)["sms"].get("pending", 0) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    sms = engine.store.counters(record.id)["sms"]
    stats = httpx.get(f"{simulator.url}/admin/stats").json()
    assert sms["sent"] == sms["success"] + sms["failed"] + sms["pending"] == len(big) == stats["unique"]
    assert (sms["success"], sms["failed"], sms["pending"]) == (stats["delivered"], stats["failed"], stats["no_receipt"])
    assert sms["success"] >= 1
    assert record.status == RecordStatus.IN_PROGRESS  # an event-triggered round stays open until the end time
