"""Numbers true at every instant: a 100,000-customer round whose Text SMS is followed by Email and a Webhook in
the same walk, receipts coming back as fast as the provider simulator sends them, every counter sampled every
50 ms from publish to the last receipt — and the canvas's view and the analysis panel read on some samples —
with the counting rules (tests/engine/runtime/invariants.py) asserted at every sample."""

from typing import Any

import httpx
from sqlmodel import select

from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.analysis import node_analysis
from engine.services.audiences import create_static_audience
from engine.services.execution import execution_view
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime.invariants import Sampler

N = 100_000


def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def touch_flow(audience_id: int, webhook_url: str) -> dict[str, Any]:
    """Target Audience → Text SMS → Email → Webhook → Result Judgment (SMS delivered?) → End / End."""
    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("sms", "text_sms", content="Hi {name}, the sale starts today"),
                      node("mail", "email", subject="The sale starts today", body="Everything 20% off."),
                      node("hook", "webhook", url=webhook_url, fields=["name", "phone"]),
                      node("rj", "result_judgment", node_id="sms", groups=[
                          {"name": "delivered", "conditions": [{"op": "in", "value": ["success"]}]}]),
                      node("e1", "end"), node("e2", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "mail"},
                      {"source": "mail", "branch": "out", "target": "hook"},
                      {"source": "hook", "branch": "out", "target": "rj"},
                      {"source": "rj", "branch": "group_1", "target": "e1"},
                      {"source": "rj", "branch": "others", "target": "e2"}]}


def seed(webhook_url: str) -> tuple[int, int, dict[str, Any]]:
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        rows = [{"qaid": f"L{i:06d}", "name": f"L{i}", "phone": None if i % 50 == 0 else f"+86139{i:08d}",
                 "email": f"l{i}@example.com"} for i in range(N)]
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                          customer_ids=sorted(ids.values()))
        flow = touch_flow(audience.id, webhook_url)
        created = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Live numbers"),
                                      flow=flow)
        return int(created.id), int(owner.id), flow


def test_every_counter_adds_up_at_every_sample_of_a_100k_round(engine, api, simulator, http_sink, smtp_server,
                                                                 monkeypatch) -> None:
    # deployment-like channel settings: bulk SMTP transactions, webhook arrays (the test's peers keep up)
    monkeypatch.setenv("SMTP_MAX_RECIPIENTS", "100")
    monkeypatch.setenv("WEBHOOK_BATCH_SIZE", "500")
    get_settings.cache_clear()
    reset_channels()
    httpx.post(f"{simulator.url}/admin/config", json={"callback_url": f"{api}/api/v1/receipts",
                                                      "receipt_delay": 0.0})
    activity_id, owner_id, flow = seed(f"{http_sink.url}/ok/hook")
    with read_session() as session:
        owner = session.get(User, owner_id)
    views: list[int] = []

    def other_readers(i: int) -> list[str]:
        """The canvas's numbers on every 5th sample, the SMS analysis panel on every 20th: the same rules."""
        problems: list[str] = []
        if i % 5 == 0 and record_id[0] is not None:
            with read_session() as session:
                view = execution_view(session=session, actor=owner, activity_id=activity_id)
            for nid, n in view.nodes.items():
                v = dict(n.values)
                if n.kind == "send" and not (v["success"] + v["failed"] <= v["sent"] <= v["entered"]):
                    problems.append(f"canvas {nid}: {v}")
            views.append(i)
        if i % 20 == 0 and record_id[0] is not None:
            with read_session() as session:
                panel = node_analysis(session=session, actor=owner, record_id=record_id[0], node_id="sms")
            entered, sent, succeeded = (n for _, n in panel.funnel)
            if not succeeded <= sent <= entered or any(label.count < 0 for label in panel.labels):
                problems.append(f"analysis funnel {panel.funnel} labels {panel.labels}")
        return problems

    record_id: list[int | None] = [None]

    def read() -> dict[str, dict[str, int]]:
        if record_id[0] is None:
            with read_session() as session:
                record_id[0] = session.exec(select(ExecutionRecord.id).where(
                    ExecutionRecord.activity_id == activity_id)).first()
        return engine.store.counters(record_id[0]) if record_id[0] is not None else {}

    def settled() -> bool:
        with read_session() as session:
            record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()
        if record.status == RecordStatus.IN_PROGRESS:
            return False
        stats = simulator.simulator.snapshot()
        sms = engine.store.counters(int(record.id))["sms"]  # type: ignore[arg-type]
        return sms["success"] + sms["failed"] == stats["delivered"] + stats["failed"]

    with Sampler(read, flow, N, extra=other_readers) as sampler:
        with write_session() as session:
            svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id)
        engine.run_until(settled, timeout=600)
        final = read()
    assert sampler.error is None, sampler.error
    assert not sampler.problems, sampler.problems[:20]
    entered = sampler.series("t", "entered")
    in_flight = [n for n in entered if 0 < n < N]
    assert len(sampler.samples) >= 20 and len(views) >= 4
    assert len(set(in_flight)) >= 3, f"entered should grow while batches are walked, saw {sorted(set(entered))}"
    mail_entered = sampler.series("mail", "entered")
    assert any(0 < n < N for n in mail_entered), "the email's numbers should move during the round too"
    # and the end: exact numbers, equal to what the simulator received and answered
    stats = simulator.simulator.snapshot()
    sms = final["sms"]
    assert sms["entered"] == N and sms["not_sent"] == N // 50
    assert sms["sent"] == stats["unique"] == N - N // 50 and stats["duplicates"] == 0
    assert (sms["success"], sms["failed"], sms["pending"]) == (stats["delivered"], stats["failed"],
                                                               stats["no_receipt"])
    assert final["mail"]["sent"] == final["mail"]["success"] == N
    assert final["hook"]["success"] == N and final["e1"]["entered"] + final["e2"]["entered"] == N
