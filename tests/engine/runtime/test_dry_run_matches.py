"""A dry run decides as the engine does (issue 16): the same flow over the same customers, dry-run first, then
published and walked for real (start_round + run_step, the provider simulator answering) — every component's
entered, every branch and the sends without an address agree. Judgments read tags, attributes, events and an
audience, so each read goes through the real data in both."""

from datetime import timedelta
from typing import Any

from engine import clock
from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import BehaviorEvent, ExecutionRecord, Role, User
from engine.services import activities as acts
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.services.dry_run import dry_run
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.engine.runtime import support as s

N = 120


def _node(nid: str, kind: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": kind, "config": config, "position": {"x": 0, "y": 0}}


def _link(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def flow(everyone: int, gold: int) -> dict[str, Any]:
    """Tag Judgment (vip) → SMS; the others: Event Judgment (browsed in 7 days) → Audience Judgment (Gold) →
    Email / End."""
    tag = {"groups": [{"name": "VIP", "conditions": [{"tag": "level", "op": "eq", "value": "vip"}]}]}
    event = {"groups": [{"name": "Browsed", "conditions": [{"event": "browse", "times": 1,
                                                            "window_hours": 7 * 24}]}]}
    return {"nodes": [_node("t", "target_audience", audience_id=everyone), _node("tj", "tag_judgment", **tag),
                      _node("sms", "text_sms", content="Hi {name}"), _node("ej", "event_judgment", **event),
                      _node("aj", "audience_judgment", groups=[{"audience_id": gold, "priority": 1}]),
                      _node("mail", "email", subject="Hello", body="Hi {name}"),
                      _node("e1", "end"), _node("e2", "end"), _node("e3", "end"), _node("e4", "end")],
            "edges": [_link("t", "tj"), _link("tj", "sms", "group_1"), _link("sms", "e1"),
                      _link("tj", "ej", "others"), _link("ej", "aj", "group_1"), _link("ej", "e2", "others"),
                      _link("aj", "mail", "group_1"), _link("aj", "e3", "others"), _link("mail", "e4")]}


def test_the_dry_run_counts_are_the_engine_round_counts(database: str, redis_url: str, simulator, smtp_server,
                                                        monkeypatch) -> None:
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    reset_channels()
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        rows = [{"qaid": f"M{i:04d}", "name": f"M{i}", "phone": None if i % 7 == 0 else f"+8613900{i:06d}",
                 "email": None if i % 5 == 0 else f"m{i}@example.com",
                 "tags": {"level": "vip" if i % 4 == 0 else "normal"}} for i in range(N)]
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
        everyone = sorted(ids.values())
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All", customer_ids=everyone)
        gold = create_static_audience(session=session, workspace_id=ws.id, name="Gold", customer_ids=everyone[::3])
        for cid in everyone[::2]:
            session.add(BehaviorEvent(workspace_id=ws.id, customer_id=cid, name="browse",
                                      occurred_at=clock.now() - timedelta(days=1)))
        activity = acts.create_activity(session=session, actor=owner, data=ActivityInput(name="Same"),
                                        flow=flow(audience.id, gold.id))
        activity_id, owner_id = int(activity.id), int(owner.id)

    with read_session() as session:
        dry = dry_run(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                      sample_size=N)
    assert dry.entered == N
    assert received_nothing(simulator, smtp_server)

    with write_session() as session:
        acts.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id)
    record = s.records(activity_id)[0]
    assert isinstance(record, ExecutionRecord) and record.id is not None
    s.run_in_process(record.id)
    real = s.persisted_counters(record.id)

    assert {nid: n.reached for nid, n in dry.nodes.items()} == {nid: c["entered"] for nid, c in real.items()}
    for nid, n in dry.nodes.items():
        real_branches = {k.removeprefix("branch:"): v for k, v in real[nid].items()
                         if k.startswith("branch:") and v}
        assert {b: v for b, v in n.branches.items() if v} == real_branches, nid
    assert dry.nodes["sms"].not_sent == real["sms"]["not_sent"] > 0  # no phone: never handed to a channel
    assert dry.nodes["mail"].not_sent == real["mail"]["not_sent"] > 0


def received_nothing(simulator, smtp_server) -> bool:  # noqa: ANN001 — the fixtures
    return simulator.simulator.messages(limit=10)["messages"] == [] and not smtp_server.received
