"""Issue 16 on a real engine (real Redis, Dramatiq worker threads, the provider simulator, a controllable
clock): conversions counted as goal events arrive — inside / outside the window, per branch, per version —,
exits taking customers out of a Wait Until before its wake with nothing sent, exit conditions on attributes
checked before a touch, and the holdout group held out of every touch but tracked for the goal."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import Activity, GoalConversion, User
from engine.runtime.goals import on_goal_events
from engine.services import activities as svc
from engine.services import analysis, events
from engine.services.goal_results import goal_report
from engine.shared.customers import upsert_customers
from engine.shared.goal_rules import GoalSettings, held_out
from engine.status import RecordStatus
from tests.engine.runtime.support import fault_flow, received, records, seed_activity, steps_of


@pytest.fixture
def goal_hook(engine) -> Iterator[None]:  # noqa: ANN001 — the engine fixture
    undo = events.register_event_hook(on_goal_events)
    yield
    undo()


def _post(workspace_id: int, items: list[tuple[str, str, Any]]) -> None:
    """Events as the API stores them (validated, stored, hooks after the commit): (qaid, name, occurred_at)."""
    with write_session() as session:
        events.ingest(session=session, workspace_id=workspace_id, events=[
            {"qaid": q, "name": n, **({"occurred_at": at.isoformat()} if at is not None else {})}
            for q, n, at in items])


def _ids(activity_id: int) -> tuple[int, dict[str, int], User]:
    with read_session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        owner = session.get(User, activity.owner_id)
        assert owner is not None
        from engine.models import Customer
        customers = {c.qaid: int(c.id) for c in session.exec(select(Customer).where(
            Customer.workspace_id == activity.workspace_id)).all()}
        return activity.workspace_id, customers, owner


def _done(activity_id: int, number: int):  # noqa: ANN202
    return lambda: len(records(activity_id)) >= number and records(activity_id)[number - 1].status \
        == RecordStatus.COMPLETED


def _report(owner: User, activity_id: int, record_id: int | None = None):  # noqa: ANN202
    with read_session() as session:
        return goal_report(session=session, actor=owner, activity_id=activity_id, record_id=record_id)


def test_conversions_inside_the_window_per_branch_and_per_version(engine, goal_hook) -> None:  # noqa: ANN001
    activity_id, _ = seed_activity(40, goal=GoalSettings(goal_event="order_paid", goal_days=2))
    engine.run_until(_done(activity_id, 1))
    ws, customers, owner = _ids(activity_id)
    entered_at = engine.clock.at
    first = records(activity_id)[0]
    inside = [f"F{i:05d}" for i in range(10)]
    _post(ws, [(q, "order_paid", None) for q in inside] + [(inside[0], "order_paid", None)]  # a repeat counts once
          + [("F00012", "order_paid", entered_at - timedelta(hours=1)),  # before the entry
             ("F00013", "add_to_cart", None)])  # not the goal
    engine.clock.advance(days=2, hours=1)
    _post(ws, [("F00011", "order_paid", None)])  # after the window
    report = _report(owner, activity_id)
    round1 = report.rounds[0]
    assert (round1.entered, round1.treated.customers, round1.treated.converted) == (40, 40, 10)
    assert round1.holdout.customers == 0 and round1.uplift is None
    with read_session() as session:
        converted = set(session.exec(select(GoalConversion.customer_id)
                                     .where(GoalConversion.record_id == first.id)).all())
    assert converted == {customers[q] for q in inside}
    # per branch: the split's two groups, from the route rows independently
    branch_of = {s.customer_id: s.branch for s in steps_of(int(first.id)) if s.node_id == "rg"}
    expected = {b: sum(1 for c in converted if branch_of[c] == b) for b in ("group_1", "group_2")}
    by_branch = {b.branch: b for b in report.branches if b.node_id == "rg"}
    assert {b: by_branch[b].converted for b in by_branch} == expected
    assert by_branch["group_1"].routed + by_branch["group_2"].routed == 40
    assert by_branch["group_1"].routed == sum(1 for b in branch_of.values() if b == "group_1")
    assert len(report.branches) == 2  # only components with more than one branch

    # V2, three days later: round 1's window has closed; a goal event counts for round 2 (V2) only
    engine.clock.advance(days=1)
    with write_session() as session:
        flow = fault_flow(0)
        current = svc.current_flow(session=session, activity=session.get(Activity, activity_id))
        flow["nodes"][0]["config"] = current["nodes"][0]["config"]
        flow["nodes"][1]["config"]["content"] = "Hello again {name}"
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity_id, flow=flow)
    engine.run_until(_done(activity_id, 2))
    _post(ws, [(f"F{i:05d}", "order_paid", None) for i in range(20, 25)])
    report = _report(owner, activity_id)
    by_version = {v.version_number: v for v in report.versions}
    assert by_version[1].treated.converted == 10 and by_version[2].treated.converted == 5
    assert by_version[2].treated.customers == 40
    assert [r.label for r in report.rounds] == ["Round 2", "Round 1"]


def wait_flow(audience_id: int) -> dict[str, Any]:
    """Target Audience → Wait Until (24 h) → Text SMS → End."""
    def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("w", "wait_until", mode="period", hours=24),
                      node("sms", "text_sms", content="Hi {name}"), node("e", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "w"},
                      {"source": "w", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "e"}]}


def test_exit_takes_customers_out_of_a_wait_before_its_wake_and_nothing_is_sent(engine, goal_hook,
                                                                                simulator) -> None:  # noqa: ANN001
    settings = GoalSettings(goal_event="order_paid", goal_days=7, exit_on_goal=True, exit_events=["unsubscribe"],
                            exit_attributes=[{"property": "vip", "op": "eq", "value": True}])
    activity_id, _ = seed_activity(20, flow=wait_flow, goal=settings)
    engine.run_until(lambda: engine.store.counters(records(activity_id)[0].id).get("w", {}).get("parked") == 20)
    record_id = int(records(activity_id)[0].id)
    ws, customers, owner = _ids(activity_id)
    engine.clock.advance(hours=1)
    _post(ws, [(f"F{i:05d}", "order_paid", None) for i in range(1, 4)] + [("F00004", "unsubscribe", None)])
    # at once: counted "exited" at the wait where they are parked, before any wake
    assert engine.store.counters(record_id)["w"]["exited"] == 4
    assert engine.store.counters(record_id)["w"].get("passed", 0) == 0
    with read_session() as session:  # the wait's analysis: 16 still waiting, 4 exited
        labels = {label.key: label.count for label in analysis.node_analysis(
            session=session, actor=owner, record_id=record_id, node_id="w").labels}
    assert labels == {"result:parked": 16, "result:passed": 0, "result:exited": 4}
    with write_session() as session:  # an attribute condition, checked before the touch
        upsert_customers(session=session, workspace_id=ws, rows=[{"qaid": "F00005", "attributes": {"vip": True}}])
    before = received(simulator)
    engine.clock.advance(hours=24)
    engine.run_until(_done(activity_id, 1))
    counters = engine.store.counters(record_id)
    assert counters["w"]["exited"] == 4 and counters["w"]["passed"] == 16
    assert counters["sms"]["entered"] == 16 and counters["sms"]["exited"] == 1
    # customer F00000 has no phone (fault_flow's rule: every 50th); 15 were sent, none of the exited
    sent_to = {s.customer_id for s in steps_of(record_id) if s.node_id == "sms" and s.result != "exited"}
    gone = {customers[f"F{i:05d}"] for i in range(1, 6)}
    assert not sent_to & gone and len(sent_to) == 15
    assert received(simulator) - before == 14
    exited_rows = {s.customer_id: s.node_id for s in steps_of(record_id) if s.result == "exited"}
    assert exited_rows == {**{customers[f"F{i:05d}"]: "w" for i in range(1, 5)}, customers["F00005"]: "sms"}
    assert _report(owner, activity_id).rounds[0].treated.converted == 3
    assert _report(owner, activity_id).rounds[0].exited == 5
    with read_session() as session:  # the touch's analysis: the exited customer beside the sends' results
        labels = {label.key: label.count for label in analysis.node_analysis(
            session=session, actor=owner, record_id=record_id, node_id="sms").labels}
    assert labels["result:exited"] == 1 and sum(labels.values()) == counters["sms"]["entered"]


def test_holdout_is_held_out_of_every_touch_and_tracked_for_the_goal(engine, goal_hook) -> None:  # noqa: ANN001
    activity_id, _ = seed_activity(2000, goal=GoalSettings(goal_event="order_paid", holdout_pct=10))
    engine.run_until(_done(activity_id, 1), timeout=120)
    record_id = int(records(activity_id)[0].id)
    ws, customers, owner = _ids(activity_id)
    held = held_out(activity_id, 10, customers.values())
    counters = engine.store.counters(record_id)
    assert counters["t"]["entered"] == 2000 and counters["t"]["held_out"] == len(held)
    assert 150 <= len(held) <= 250  # ≈ 10 %: binomial(2000, 0.1) has a standard deviation of 13
    assert counters["sms"]["entered"] == 2000 - len(held)
    touched = {s.customer_id for s in steps_of(record_id) if s.node_id in ("sms", "push")}
    assert not touched & held
    assert {s.customer_id for s in steps_of(record_id) if s.result == "held_out"} == held
    # both groups convert: every held-out customer, and 300 of the treated
    treated = sorted(set(customers.values()) - held)[:300]
    qaid = {cid: q for q, cid in customers.items()}
    _post(ws, [(qaid[c], "order_paid", None) for c in sorted(held) + treated])
    round1 = _report(owner, activity_id).rounds[0]
    assert round1.holdout.customers == len(held) and round1.holdout.converted == len(held)
    assert round1.treated.customers == 2000 - len(held) and round1.treated.converted == 300
    assert round1.uplift is not None and round1.uplift.difference < 0 and round1.uplift.high < 0


def test_an_exit_is_counted_once_per_round_wherever_it_is_noticed(redis_url: str) -> None:
    """The wake, a touch and a replayed event may all notice the same exited customer: one count, at the first."""
    from engine.runtime.connection import get_redis
    from engine.runtime.goal_walk import exiting, mark_exited
    from engine.runtime.store import RoundStore

    store = RoundStore(get_redis())
    assert mark_exited(store, 9001, "w", [1, 2, 3]) == 3
    assert mark_exited(store, 9001, "sms", [2, 3, 4]) == 1  # 4 only
    assert mark_exited(store, 9001, "w", [1]) == 0
    assert mark_exited(store, 9002, "w", [1]) == 1  # another round counts its own
    counters = store.counters(9001)
    assert counters["w"]["exited"] == 3 and counters["sms"]["exited"] == 1
    assert exiting(store, 9001, [1, 4, 5]) == {1, 4}
