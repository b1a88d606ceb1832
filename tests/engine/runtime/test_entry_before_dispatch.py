"""Behaviour events for an activity published a moment ago — before the scheduler has dispatched its round —
enter it and are walked, and the round stays In Progress (its first walk used to find no Redis marker and end
the round Abnormal End as "Redis state lost"; seen in the records-drawer browser test)."""

from sqlmodel import select

from engine import actors
from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role
from engine.runtime.entry import on_events
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime.support import steps_of, wait_for


def _flow() -> dict:
    def node(nid: str, type_: str, **config) -> dict:  # noqa: ANN003
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("ev", "behavior_event", event="visit", times=1, window_hours=1),
                      node("sms", "text_sms", content="Hi {name}"), node("end", "end")],
            "edges": [{"source": "ev", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "end"}]}


def test_events_before_the_round_is_dispatched_enter_and_the_round_stays_in_progress(engine) -> None:  # noqa: ANN001
    with write_session() as session:
        ws = f.workspace(session)
        user = f.user(session, ws, Role.MARKETER)
        ids = list(upsert_customers(session=session, workspace_id=ws.id, rows=[
            {"qaid": f"Q{i}", "name": f"C{i}", "phone": f"+8613800{i:06d}"} for i in range(5)]).ids.values())
        activity = svc.create_activity(session=session, actor=user, data=ActivityInput(name="Visit"), flow=_flow())
        svc.publish(session=session, actor=user, activity_id=activity.id)
        workspace_id, activity_id = ws.id, activity.id
    with read_session() as session:
        record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()
    assert record.status == RecordStatus.IN_PROGRESS and record.dispatched_at is None  # no scheduler tick yet
    now = record.started_at
    entered = on_events(workspace_id, [(cid, "visit", {}, now) for cid in ids], enqueue=actors.enqueue_step)
    assert entered == len(ids)
    wait_for(lambda: sum(1 for s in steps_of(record.id) if s.node_id == "sms") == len(ids), 30,
             what="the workers walked the entered customers")
    wait_for(lambda: engine.store.pending(record.id) == 0, 30, what="no batch pending")
    with read_session() as session:
        assert session.get(ExecutionRecord, record.id).status == RecordStatus.IN_PROGRESS
    engine.scheduler.tick()  # the dispatch comes now, and the round is still open
    with read_session() as session:
        after = session.get(ExecutionRecord, record.id)
        assert after.status == RecordStatus.IN_PROGRESS and after.dispatched_at is not None
