"""A flow using every component type runs end to end on real Redis + Dramatiq workers + the scheduler, with
the simulator, SMTP, webhook and Kafka peers; its counters and per-customer routes are exact."""

import uuid
from collections import Counter, defaultdict
from datetime import timedelta

import httpx
from sqlmodel import Session, func, select

from engine import clock
from engine.channels import signature
from engine.db import read_session, write_session
from engine.models import (
    Activity,
    AudienceMember,
    CustomerTag,
    ExecutionRecord,
    NodeCounter,
    Role,
)
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from engine.status import ActivityStatus, RecordStatus
from tests import factories as f
from tests.engine.runtime.support import steps_of

N = 240


def _node(nid: str, type_: str, **config) -> dict:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def _edge(src: str, dst: str, branch: str = "out") -> dict:
    return {"source": src, "branch": branch, "target": dst}


def flow_with_every_audience_component(audiences: dict[str, int], webhook_url: str) -> dict:
    half = [{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}]
    nodes = [
        _node("n1", "target_audience", audience_id=audiences["all"]),
        _node("n2", "tag_judgment", groups=[{"name": "VIP", "conditions": [{"tag": "level", "op": "eq",
                                                                            "value": "vip"}]}]),
        _node("n3", "text_sms", content="Hi {name}, VIP offer"),
        _node("n4", "result_judgment", node_id="n3",
              groups=[{"name": "sent", "conditions": [{"op": "in", "value": ["success", "pending"]}]}]),
        _node("n5", "tag", tag="sms_ok", value="yes"),
        _node("n6", "end"),
        _node("n7", "webhook", url=webhook_url, secret="s3cret-key", retries=1),
        _node("n8", "end"),
        _node("n9", "random_grouping", groups=[{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]),
        _node("n10", "email", subject="Hello {name}", body="News for {name}"),
        _node("n11", "end"),
        _node("n12", "app_push", title="Hi", body="Open the app"),
        _node("n13", "wechat_message", content="Hello from WeChat"),
        _node("n14", "end"),
        _node("n15", "wait_until", mode="period", hours=2),
        _node("n16", "ab_test", groups=half, target_event="purchase", window_hours=24),
        _node("n17", "digital_sms", template_id="tpl-1"),
        _node("n18", "end"),
        _node("n19", "template_message", template_id="wx-tpl", keywords={"city": "{city}"}),
        _node("n20", "audience_judgment", groups=[{"audience_id": audiences["gold"], "priority": 1},
                                                  {"audience_id": audiences["silver"], "priority": 2}]),
        _node("n21", "generate_audience", audience_name="Gold from the AB test"),
        _node("n22", "end"),
        _node("n23", "push_kafka", bootstrap_servers="placeholder", topic="buyers"),
        _node("n24", "end"),
        _node("n25", "event_judgment", groups=[{"conditions": [{"event": "browse", "performed": True, "times": 1,
                                                                "window_hours": 24 * 30}]}]),
        _node("n26", "end"),
        _node("n27", "end"),
    ]
    edges = [
        _edge("n1", "n2"), _edge("n2", "n3", "group_1"), _edge("n3", "n4"), _edge("n4", "n5", "group_1"),
        _edge("n5", "n6"), _edge("n4", "n7", "others"), _edge("n7", "n8"), _edge("n2", "n9", "others"),
        _edge("n9", "n10", "group_1"), _edge("n10", "n11"), _edge("n9", "n12", "group_2"), _edge("n12", "n13"),
        _edge("n13", "n14"), _edge("n9", "n15", "group_3"), _edge("n15", "n16"), _edge("n16", "n17", "group_1"),
        _edge("n17", "n18"), _edge("n16", "n19", "group_2"), _edge("n19", "n20"), _edge("n20", "n21", "group_1"),
        _edge("n21", "n22"), _edge("n20", "n23", "group_2"), _edge("n23", "n24"), _edge("n20", "n25", "others"),
        _edge("n25", "n26", "group_1"), _edge("n25", "n27", "others"),
    ]
    return {"nodes": nodes, "edges": edges}


def _customers(session: Session, workspace_id: int) -> list[int]:
    rows = []
    for i in range(N):
        rows.append({
            "qaid": f"Q{i:05d}", "name": f"Customer {i}",
            "phone": None if i % 37 == 0 else f"+86138{i:08d}",  # some cannot get an SMS
            "email": f"c{i}@example.com", "wechat_openid": f"wx{i}", "push_token": f"pt{i}",
            "attributes": {"city": ["Shanghai", "Beijing"][i % 2]},
            "tags": {"level": "vip"} if i % 4 == 0 else {"level": "normal"},
        })
    ids = upsert_customers(session=session, workspace_id=workspace_id, rows=rows).ids
    return sorted(ids.values())


def _publish(flow: dict, *, audiences_ids: list[int] | None = None) -> tuple[int, int]:
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = _customers(session, ws.id)
        return ws.id, owner.id, ids  # type: ignore[return-value]


def _counters(record_id: int) -> dict[str, dict[str, int]]:
    with read_session() as session:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for row in session.exec(select(NodeCounter).where(NodeCounter.record_id == record_id)):
            out[row.node_id][row.metric] = row.value
        return out


def test_every_audience_component_end_to_end(engine, simulator, smtp_server, http_sink, kafka_cluster) -> None:
    from engine.models import BehaviorEvent, User

    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = _customers(session, ws.id)
        all_aud = create_static_audience(session=session, workspace_id=ws.id, name="All", customer_ids=ids)
        gold = create_static_audience(session=session, workspace_id=ws.id, name="Gold", customer_ids=ids[::3])
        silver = create_static_audience(session=session, workspace_id=ws.id, name="Silver", customer_ids=ids[::2])
        for cid in ids[::5]:
            session.add(BehaviorEvent(workspace_id=ws.id, customer_id=cid, name="browse",
                                      occurred_at=clock.now() - timedelta(days=1)))
        flow = flow_with_every_audience_component(
            {"all": all_aud.id, "gold": gold.id, "silver": silver.id}, f"{http_sink.url}/ok/hook")
        flow["nodes"][22]["config"]["bootstrap_servers"] = kafka_cluster.bootstrap_servers
        # a topic of this run's own: the mock cluster lives for the session ([sqlite] and [postgresql] share it)
        topic = flow["nodes"][22]["config"]["topic"] = f"buyers-{uuid.uuid4().hex[:8]}"
        activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Every component"),
                                       flow=flow)
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
        activity_id = activity.id

    def record() -> ExecutionRecord:
        with read_session() as session:
            return session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()

    # Everyone reaches an End or the wait; the wait holds its customers, so the round is still in progress.
    engine.run_until(lambda: engine.store.pending(record().id) > 0 and
                     engine.store.pending(record().id) == _parked_batches(engine, record().id))
    assert record().status == RecordStatus.IN_PROGRESS
    engine.clock.advance(hours=2, minutes=1)
    engine.run_until(lambda: record().status != RecordStatus.IN_PROGRESS)
    rec = record()
    assert rec.status == RecordStatus.COMPLETED, rec.failure_reason
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.COMPLETED

    counters = _counters(rec.id)
    steps = _steps(rec.id)
    # -- every component ran and counted exactly the customers recorded as passing it
    graph_types = {n["id"]: n["type"] for n in flow["nodes"]}
    assert set(steps) == set(graph_types), set(graph_types) - set(steps)
    for node_id, customers in steps.items():
        assert counters[node_id]["entered"] == len(customers), (node_id, counters)
    # -- links: what a branch sent on is exactly what the next component received
    incoming: Counter[str] = Counter()
    for edge in flow["edges"]:
        incoming[edge["target"]] += counters[edge["source"]].get(f"branch:{edge['branch']}", 0)
    for node_id, n in incoming.items():
        assert counters[node_id]["entered"] == n, (node_id, n, counters)
    # -- everyone who entered ends in exactly one End
    ends = [nid for nid, t in graph_types.items() if t == "end"]
    assert sum(counters[e]["entered"] for e in ends) == N
    assert sorted(c for e in ends for c in steps[e]) == ids
    # -- tag judgment: VIPs (every 4th customer) go to group_1
    assert counters["n2"]["passed"] == len(ids[::4])
    # -- touches: actually sent = success + failed + pending; no-phone customers fail, never reach the provider
    for node_id in ("n3", "n10", "n12", "n13", "n17", "n19", "n7", "n23"):
        c = counters[node_id]
        assert c["sent"] == c["success"] + c["failed"] + c["pending"] == c["entered"] - c["not_sent"], node_id
    no_phone = [cid for cid in steps["n3"] if (cid - ids[0]) % 37 == 0]
    assert no_phone and counters["n3"]["not_sent"] == len(no_phone)
    sim = httpx.get(f"{simulator.url}/admin/messages", params={"prefix": f"{rec.id}:n3:", "limit": 10_000}).json()
    assert sim["total"] == counters["n3"]["sent"] == counters["n3"]["entered"] - len(no_phone)
    stats = httpx.get(f"{simulator.url}/admin/stats").json()
    assert stats["duplicates"] == 0
    # -- email: the SMTP server received exactly the successful sends
    assert len(smtp_server.received) == counters["n10"]["success"] == counters["n10"]["entered"]
    # -- webhook: one signed POST per customer
    hooks = [h for h in http_sink.hits if h.path == "/ok/hook"]
    assert len(hooks) == counters["n7"]["entered"] and all(
        signature.is_valid(h.body, "s3cret-key", h.headers["x-signature"]) for h in hooks)
    # -- random grouping 20/30/50 and AB 50/50 split everyone once
    assert sum(counters["n9"][f"branch:group_{i}"] for i in (1, 2, 3)) == counters["n9"]["entered"]
    assert counters["n16"]["branch:group_1"] + counters["n16"]["branch:group_2"] == counters["n16"]["entered"]
    # -- audience judgment: gold first, silver only for those not gold
    gold_ids, silver_ids = set(ids[::3]), set(ids[::2])
    assert set(steps["n21"]) == set(steps["n20"]) & gold_ids
    assert set(steps["n23"]) == (set(steps["n20"]) & silver_ids) - gold_ids
    # -- event judgment: browsed within 30 days
    assert set(steps["n26"]) == set(steps["n25"]) & set(ids[::5])
    with read_session() as session:
        tagged = session.exec(select(func.count()).select_from(CustomerTag).where(CustomerTag.tag == "sms_ok")).one()
        members = session.exec(select(func.count()).select_from(AudienceMember).where(
            AudienceMember.customer_id.in_(steps["n21"]))).one()  # type: ignore[attr-defined]
    assert tagged == counters["n5"]["entered"]
    assert members >= counters["n21"]["entered"]
    # -- AB test: group A buys within the window, so it wins
    with write_session() as session:
        for cid in steps["n17"]:
            session.add(BehaviorEvent(workspace_id=ws.id, customer_id=cid, name="purchase",
                                      occurred_at=clock.now() + timedelta(minutes=5)))
    engine.clock.advance(minutes=10)
    engine.scheduler.refresh_ab_tests(clock.now())
    ab = _counters(rec.id)["n16"]
    assert ab["targets_achieved"] == ab["target:group_1"] == len(steps["n17"]) > 0 and ab["winner"] == 1
    assert ab["inflow_group_1"] + ab["inflow_group_2"] == ab["entered"]
    # -- Kafka: consume back what was produced
    from tests.engine.channels.test_kafka import consume_all

    assert len(consume_all(kafka_cluster.bootstrap_servers, topic, counters["n23"]["entered"])) == \
        counters["n23"]["entered"]


def _parked_batches(engine, record_id: int) -> int:
    return sum(1 for _, data in engine.store.due_waits(float("inf")) if data["record"] == record_id)


def _steps(record_id: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for step in steps_of(record_id):
        out[step.node_id].append(step.customer_id)
    return out
