"""Seed 004's Testing on the real engine (workers, scheduler, provider simulator): a test round reaches the
testers alone (customers by QAID, and staff contacts: issue 14), its messages say they are tests, its numbers are
its own record's, and the activity's status, run count and real rounds do not move; an event-triggered flow's test
enters the testers at the trigger."""

from typing import Any

from sqlmodel import func, select

from engine.db import read_session, write_session
from engine.models import Activity, ExecutionRecord, Role, User, Workspace
from engine.runtime.ports import TEST_MARK
from engine.services import activities as acts
from engine.services import approval as svc
from engine.services import users
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from engine.status import ActivityStatus, RecordStatus
from tests import factories as f
from tests.engine.runtime import support as s

REAL = 20


def sms_flow(trigger: dict[str, Any]) -> dict[str, Any]:
    sms = {"id": "sms", "type": "text_sms", "config": {"content": "Hi {name}"}, "position": {"x": 1, "y": 0}}
    return {"nodes": [{"id": "t", **trigger, "position": {"x": 0, "y": 0}}, sms,
                      {"id": "e", "type": "end", "config": {}, "position": {"x": 2, "y": 0}}],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "e"}]}


def seed(trigger: str) -> tuple[int, int]:
    """REAL customers in an audience, one tester outside it, an activity (Draft) whose flow sends them an SMS;
    the workspace requires approval. Returns (activity id, owner id)."""
    with write_session() as session:
        ws = f.workspace(session)
        ws.approval_required = True
        owner = f.user(session, ws, Role.MARKETER)
        rows = [{"qaid": f"R{i:03d}", "name": f"Real{i}", "phone": f"+86139000{i:05d}"} for i in range(REAL)]
        rows.append({"qaid": "TESTER", "name": "Tess", "phone": "+8613700000001"})
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="Real",
                                          customer_ids=sorted(v for k, v in ids.items() if k != "TESTER"))
        config = ({"type": "target_audience", "config": {"audience_id": audience.id}} if trigger == "audience" else
                  {"type": "behavior_event", "config": {"event": "purchase"}})
        activity = acts.create_activity(session=session, actor=owner, data=ActivityInput(name="Tested"),
                                        flow=sms_flow(config))
        svc.add_tester(session=session, actor=owner, activity_id=activity.id, qaid="TESTER")
        return int(activity.id), int(owner.id)


def test_a_test_send_reaches_the_tester_alone(engine, simulator) -> None:
    activity_id, owner_id = seed("audience")
    with write_session() as session:
        record_id = int(svc.run_test(session=session, actor=session.get(User, owner_id), activity_id=activity_id).id)
    engine.run_until(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS)

    received = simulator.simulator.messages(limit=1000)["messages"]
    assert [(m["to"], m["body"]) for m in received] == [("+8613700000001", f"{TEST_MARK}Hi Tess")]
    assert s.records_status(record_id) == RecordStatus.COMPLETED
    assert s.persisted_counters(record_id)["sms"]["entered"] == 1
    with read_session() as session:
        activity = session.get(Activity, activity_id)
        assert (activity.status, activity.runs_used, activity.live_version_id) == (ActivityStatus.TESTING, 0, None)
        real = session.exec(select(func.count()).select_from(ExecutionRecord).where(
            ExecutionRecord.activity_id == activity_id, ExecutionRecord.is_test == False)).one()  # noqa: E712
        assert real == 0


def test_an_event_triggered_flow_is_tested_on_its_testers(engine, simulator) -> None:
    activity_id, owner_id = seed("event")
    with write_session() as session:
        record_id = int(svc.run_test(session=session, actor=session.get(User, owner_id), activity_id=activity_id).id)
    engine.run_until(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS)
    received = simulator.simulator.messages(limit=1000)["messages"]
    assert [m["to"] for m in received] == ["+8613700000001"]
    assert received[0]["body"].startswith(TEST_MARK)


def test_a_staff_tester_is_reached_at_their_own_phone(engine, simulator) -> None:
    """Issue 14: a staff contact (no customer) added as a tester beside a customer tester: the round reaches the
    customer tester and the staff phone, marked as tests, nobody else; the real audience gets nothing."""
    activity_id, owner_id = seed("audience")
    with write_session() as session:
        owner = session.get(User, owner_id)
        admin = f.user(session, session.get(Workspace, owner.workspace_id), Role.ADMIN)
        staffer = f.user(session, session.get(Workspace, owner.workspace_id), Role.MANAGER, name="stan")
        users.set_contact(session=session, actor=admin, user_id=staffer.id, phone="+86 137 0000 0042")
        svc.add_staff_tester(session=session, actor=owner, activity_id=activity_id, user_id=staffer.id)
        record_id = int(svc.run_test(session=session, actor=owner, activity_id=activity_id).id)
    engine.run_until(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS)

    received = simulator.simulator.messages(limit=1000)["messages"]
    assert sorted((m["to"], m["body"]) for m in received) == [
        ("+8613700000001", f"{TEST_MARK}Hi Tess"), ("+8613700000042", f"{TEST_MARK}Hi Stan")]
    assert s.persisted_counters(record_id)["sms"]["entered"] == 2  # the test record's own counters
    with read_session() as session:
        assert session.get(Activity, activity_id).runs_used == 0
        real = session.exec(select(func.count()).select_from(ExecutionRecord).where(
            ExecutionRecord.activity_id == activity_id, ExecutionRecord.is_test == False)).one()  # noqa: E712
        assert real == 0
