"""Dry run (issue 16): the engine's own components and routing over a small known data set — counts per
component and per line, the drops with their reasons, nothing sent (the provider simulator receives nothing) and
nothing kept in Redis or the database."""

from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlmodel import Session, func, select

from engine import clock
from engine.errors import Invalid, NotFound
from engine.models import Activity, BehaviorEvent, Role, Workspace
from engine.services import dry_run as svc
from engine.services.audiences import create_static_audience
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from tests import factories as f


def node(nid: str, kind: str, config: dict[str, Any], x: int) -> dict[str, Any]:
    return {"id": nid, "type": kind, "config": config, "position": {"x": x, "y": 0}}


def link(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def vip_flow(trigger: dict[str, Any], wait_days: int = 1) -> dict[str, Any]:
    """trigger → Tag Judgment (vip = yes: “VIP”) → Wait → Text SMS → End; Others → End."""
    vip = {"groups": [{"name": "VIP", "conditions": [{"tag": "vip", "op": "eq", "value": "yes"}]}]}
    return {"nodes": [node("t", trigger["type"], trigger["config"], 0), node("j", "tag_judgment", vip, 1),
                      node("w", "wait_until", {"mode": "period", "days": wait_days}, 2),
                      node("sms", "text_sms", {"content": "Hi {name}"}, 3),
                      node("e1", "end", {}, 4), node("e2", "end", {}, 4)],
            "edges": [link("t", "j"), link("j", "w", "group_1"), link("j", "e2", "others"), link("w", "sms"),
                      link("sms", "e1")]}


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws: Workspace):
    return f.user(session, ws, Role.MARKETER)


ROWS = [
    {"qaid": "A1", "name": "Ann", "phone": "+8613900000001", "tags": {"vip": "yes"}},
    {"qaid": "A2", "name": "Bob", "tags": {"vip": "yes"}},  # no phone
    {"qaid": "A3", "name": "Cy", "phone": "+8613900000003", "tags": {"vip": "no"}},
    {"qaid": "A4", "name": "Di", "phone": "+8613900000004"},  # no tag
    {"qaid": "A5", "name": "Ed", "phone": "+8613900000005", "tags": {"vip": "yes"}},
    {"qaid": "A6", "name": "Flo", "phone": "+8613900000006", "tags": {"vip": "yes"}},
    {"qaid": "OUT", "name": "Out", "phone": "+8613900000009", "tags": {"vip": "yes"}},  # not in the audience
]


def known(session: Session, ws: Workspace, owner, *, end_in: timedelta | None = None) -> Activity:
    ids = upsert_customers(session=session, workspace_id=ws.id, rows=[dict(r) for r in ROWS]).ids
    audience = create_static_audience(session=session, workspace_id=ws.id, name="Known",
                                      customer_ids=sorted(v for k, v in ids.items() if k != "OUT"))
    flow = vip_flow({"type": "target_audience", "config": {"audience_id": audience.id}})
    return f.activity(session, owner, flow=flow, end_time=clock.now() + end_in if end_in else None)


def test_counts_per_component_and_line_and_drops_with_reasons(session: Session, ws, marketer) -> None:
    activity = known(session, ws, marketer)
    result = svc.dry_run(session=session, actor=marketer, activity_id=activity.id)

    assert result.entered == 6
    assert result.sample == "6 of the 6 members of “Known”"
    reached = {nid: n.reached for nid, n in result.nodes.items()}
    assert reached == {"t": 6, "j": 6, "w": 4, "sms": 4, "e1": 4, "e2": 2}
    assert result.nodes["j"].branches == {"group_1": 4, "others": 2}
    assert result.edges == {"t|out|j": 6, "j|group_1|w": 4, "j|others|e2": 2, "w|out|sms": 4, "sms|out|e1": 4}
    assert (result.nodes["sms"].would_send, result.nodes["sms"].not_sent) == (3, 1)
    assert result.nodes["sms"].message in {"Hi Ann", "Hi Ed", "Hi Flo"}  # the first one, as it would be sent
    assert result.nodes["w"].waits.startswith("would wait until ")
    drops = sorted((d.qaid, d.node_id, d.reason) for d in result.drops)
    assert drops == [("A2", "sms", "Text SMS: not sent — no phone number"),
                     ("A3", "j", "Tag Judgment: matched no group (Others)"),
                     ("A4", "j", "Tag Judgment: matched no group (Others)")]
    assert result.dropped == 3
    assert result.reasons == {"Tag Judgment: matched no group (Others)": 2, "Text SMS: not sent — no phone number": 1}


def test_sample_size_and_a_named_customer(session: Session, ws, marketer) -> None:
    activity = known(session, ws, marketer)
    small = svc.dry_run(session=session, actor=marketer, activity_id=activity.id, sample_size=2)
    assert small.entered == 2 and small.sample == "2 of the 6 members of “Known”"
    again = svc.dry_run(session=session, actor=marketer, activity_id=activity.id, sample_size=2)
    assert sorted(d.qaid for d in again.drops) == sorted(d.qaid for d in small.drops)  # the same sample

    one = svc.dry_run(session=session, actor=marketer, activity_id=activity.id, qaid="A1")
    assert (one.entered, one.dropped, one.nodes["sms"].would_send) == (1, 0, 1)
    outside = svc.dry_run(session=session, actor=marketer, activity_id=activity.id, qaid="OUT")
    assert outside.entered == 0
    assert [(d.qaid, d.node_id, d.reason) for d in outside.drops] == [
        ("OUT", "t", "not in the audience “Known”: they are not one of its members")]
    with pytest.raises(NotFound, match="No customer with QAID “NOPE”"):
        svc.dry_run(session=session, actor=marketer, activity_id=activity.id, qaid="NOPE")


def test_a_wait_beyond_the_end_drops_its_customers(session: Session, ws, marketer) -> None:
    activity = known(session, ws, marketer, end_in=timedelta(hours=12))
    result = svc.dry_run(session=session, actor=marketer, activity_id=activity.id)
    assert result.nodes["w"].reached == 4 and "sms" not in result.nodes
    waits = [d for d in result.drops if d.node_id == "w"]
    assert sorted(d.qaid for d in waits) == ["A1", "A2", "A5", "A6"]
    assert "after the activity ends" in waits[0].reason


def test_an_event_trigger_samples_who_did_the_event(session: Session, ws, marketer) -> None:
    ids = upsert_customers(session=session, workspace_id=ws.id, rows=[dict(r) for r in ROWS]).ids
    now = clock.now()
    for qaid, ago in (("A1", timedelta(hours=1)), ("A3", timedelta(hours=2)), ("A5", timedelta(days=3))):
        session.add(BehaviorEvent(workspace_id=ws.id, customer_id=ids[qaid], name="purchase",
                                  properties={"sku": qaid}, occurred_at=now - ago))
    session.flush()
    flow = vip_flow({"type": "behavior_event", "config": {"event": "purchase", "window_hours": 24}})
    activity = f.activity(session, marketer, flow=flow)
    result = svc.dry_run(session=session, actor=marketer, activity_id=activity.id)
    assert result.entered == 2  # A5's purchase is outside the 24 h window
    assert result.nodes["j"].branches == {"group_1": 1, "others": 1}
    assert [d.qaid for d in result.drops] == ["A3"]
    named = svc.dry_run(session=session, actor=marketer, activity_id=activity.id, qaid="A6")
    assert named.entered == 1 and named.nodes["sms"].would_send == 1
    assert named.notes == ["A6 enters as if they did “purchase” now."]


def test_refusals_invalid_flow_and_private(session: Session, ws, marketer) -> None:
    activity = known(session, ws, marketer)
    broken = vip_flow({"type": "target_audience", "config": {"audience_id": 1}})
    broken["edges"] = [e for e in broken["edges"] if e["target"] != "e2"]
    with pytest.raises(Invalid, match="The flow cannot be dry-run: Tag Judgment: the 'others' link does not end"):
        svc.dry_run(session=session, actor=marketer, activity_id=activity.id, flow=broken)
    other = f.user(session, ws, Role.MARKETER)
    with pytest.raises(NotFound):
        svc.dry_run(session=session, actor=other, activity_id=activity.id)
    admin = f.user(session, ws, Role.ADMIN)
    assert svc.dry_run(session=session, actor=admin, activity_id=activity.id).entered == 6
    with pytest.raises(Invalid, match="The sample is 1 to"):
        svc.dry_run(session=session, actor=marketer, activity_id=activity.id, sample_size=0)


def test_nothing_is_sent_or_kept(session: Session, ws, marketer, redis_url: str, simulator,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The SMS channel points at the provider simulator: it receives nothing; Redis is left as it was; no row is
    added to the database (counted table by table)."""
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    get_settings.cache_clear()
    activity = known(session, ws, marketer)
    session.commit()
    r = redis.Redis.from_url(redis_url)
    keys = {k: r.dump(k) for k in r.keys("*")}  # the trigger index the activity's creation wrote
    tables = [t for t in Activity.metadata.sorted_tables]
    before = {t.name: session.exec(select(func.count()).select_from(t)).one() for t in tables}
    result = svc.dry_run(session=session, actor=marketer, activity_id=activity.id)
    assert result.nodes["sms"].would_send == 3
    assert simulator.simulator.messages(limit=100)["messages"] == []
    assert {k: r.dump(k) for k in r.keys("*")} == keys
    assert {t.name: session.exec(select(func.count()).select_from(t)).one() for t in tables} == before
