"""Dramatiq delivers at least once: every step delivered twice changes nothing the second time."""

import httpx
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role, User
from engine.runtime.step import run_step
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.engine.runtime.support import steps_of


def test_redelivered_messages_neither_double_count_nor_double_send(engine, simulator, monkeypatch) -> None:
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "1000")
    get_settings.cache_clear()
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=[
            {"qaid": f"D{i}", "name": f"D{i}", "phone": f"+8613700{i:06d}"} for i in range(2500)]).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="D",
                                          customer_ids=list(ids.values()))
        flow = {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": audience.id}},
                          {"id": "r", "type": "random_grouping", "config": {"groups": [{"ratio": 30}, {"ratio": 70}]}},
                          {"id": "s", "type": "text_sms", "config": {"content": "Hi {name}"}},
                          {"id": "e1", "type": "end", "config": {}}, {"id": "e2", "type": "end", "config": {}}],
                "edges": [{"source": "t", "branch": "out", "target": "r"},
                          {"source": "r", "branch": "group_1", "target": "s"},
                          {"source": "r", "branch": "group_2", "target": "e2"},
                          {"source": "s", "branch": "out", "target": "e1"}]}
        activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Twice"), flow=flow)
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)

    engine.scheduler.tick()
    engine.run_until(lambda: True, tick=False)
    with read_session() as session:
        record = session.exec(select(ExecutionRecord)).one()
    first_counters = engine.store.counters(record.id)
    # replay every entry batch of the round, twice, as redeliveries: nothing may change
    keys = [k.decode().split(":", 2)[2] for k in engine.store.r.keys(f"b:{record.id}:*")]
    entry_batches = [k for k in keys if k[0] == "e" and k[1:].isdigit()]
    assert len(entry_batches) == 3  # 2,500 customers in batches of 1,000
    with write_session() as session:  # as if the redeliveries came while the round was still running
        again = session.get(ExecutionRecord, record.id)
        again.status = "in_progress"
        session.add(again)
    engine.store.add_pending(record.id, entry_batches)
    from engine.actors import enqueue_step

    for batch in entry_batches:
        assert engine.store.is_pending(record.id, batch)
        run_step(record.id, "t", batch, store=engine.store)  # walked again in full ...
        assert not engine.store.is_pending(record.id, batch)
        enqueue_step(record.id, "t", batch)  # ... and the duplicate messages a crash-and-retry would cause
        enqueue_step(record.id, "t", batch)
    engine.run_until(lambda: True, tick=False)
    with read_session() as session:
        assert session.get(ExecutionRecord, record.id).status == "completed"
    assert engine.store.counters(record.id) == first_counters
    steps = len(steps_of(record.id))
    assert steps == 2500 * 3 + first_counters["r"]["branch:group_1"]  # t, r, (s, e1) or (e2): once each
    stats = httpx.get(f"{simulator.url}/admin/stats").json()
    assert stats["duplicates"] == 0 and stats["unique"] == first_counters["s"]["sent"]
    # the 30/70 split is deterministic and within 3σ
    n, p = 2500, 0.3
    assert abs(first_counters["r"]["branch:group_1"] - n * p) <= 3 * (n * p * (1 - p)) ** 0.5


def test_a_version_edited_in_place_runs_its_new_flow(database, redis_url, simulator, monkeypatch) -> None:
    """A Not Started activity edits its version in place: the next round of that version id must not run a
    flow cached from an earlier round (plans are cached by flow content, not version id)."""
    from engine.channels.registry import reset_channels
    from engine.models import Activity, ActivityVersion, RecordTrigger
    from engine.shared.in_progress import new_record
    from tests.engine.runtime import support as s

    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    get_settings.cache_clear()
    reset_channels()
    activity_id, _ = s.seed_activity(40)
    first = s.records(activity_id)[0]
    s.run_in_process(first.id)
    assert "push" in s.persisted_counters(first.id)
    with write_session() as session:
        version = session.get(ActivityVersion, first.version_id)
        flow = dict(version.flow)
        flow["edges"] = [e for e in flow["edges"] if e["source"] != "rg"] + [
            {"source": "rg", "branch": "group_1", "target": "e2"},
            {"source": "rg", "branch": "group_2", "target": "e2"}]
        flow["nodes"] = [n for n in flow["nodes"] if n["id"] not in ("push", "e1")]
        version.flow = flow
        session.add(version)
        second = new_record(session, session.get(Activity, activity_id), RecordTrigger.SCHEDULE)
        second_id = second.id
    s.run_in_process(second_id)
    counters = s.persisted_counters(second_id)
    assert "push" not in counters and counters["e2"]["entered"] == 40
    reset_channels()
