"""A new version does not send twice (issue 12, part 6). Publishing V2 of a running activity drains V1's round
(entry closed; the customers inside finish on V1) and starts one round on V2 that new entrants take and that
enters nobody who already entered a round it continues. A one-time audience flow republished while its
customers wait in a Wait Until, on real Redis with real workers: every customer is touched by one version only.
"""

from collections import defaultdict
from typing import Any

from sqlmodel import col, select

from engine.db import read_session, write_session
from engine.models import Activity, Customer, CustomerStep, User
from engine.services import activities as svc
from engine.services import records, versions
from engine.services.audiences import add_members
from engine.shared.customers import upsert_customers
from engine.status import Action, ActivityStatus, RecordStatus
from tests.engine.runtime.support import records as rounds
from tests.engine.runtime.support import seed_activity

N = 2000  # customers of the first version (every 50th has no phone: "not sent", no provider message)
NEW = 100  # audience members added while V1's customers wait: they are V2's


def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def sms_wait_sms(audience_id: int, version: str = "V1") -> dict[str, Any]:
    """Target Audience → Text SMS → Wait Until 1 h → Text SMS → End."""
    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("s1", "text_sms", content=f"{version}: hello {{name}}"),
                      node("w", "wait_until", mode="period", hours=1),
                      node("s2", "text_sms", content=f"{version}: still there, {{name}}?"),
                      node("e", "end")],
            "edges": [{"source": a, "branch": "out", "target": b} for a, b in (("t", "s1"), ("s1", "w"), ("w", "s2"),
                                                                                ("s2", "e"))]}


def sent_by_record(record_ids: list[int]) -> dict[int, set[int]]:
    """Customer → the rounds whose Text SMS components have a step row for them."""
    out: dict[int, set[int]] = defaultdict(set)
    with read_session() as session:
        for record_id, customer_id in session.exec(select(CustomerStep.record_id, CustomerStep.customer_id).where(
                col(CustomerStep.record_id).in_(record_ids), col(CustomerStep.node_id).in_(["s1", "s2"]))):
            out[customer_id].add(record_id)
    return out


def drawer(owner_id: int, activity_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """(round number → live/draining badge, version number → Manage Versions label)."""
    with read_session() as session:
        actor = session.get(User, owner_id)
        rows = records.list_records(session=session, actor=actor, activity_id=activity_id)
        labels = versions.list_versions(session=session, actor=actor, activity_id=activity_id)
    return {r.number: r.role for r in rows}, {v.number: v.status_label for v in labels}


def test_a_one_time_audience_flow_republished_while_customers_wait_sends_once(engine, simulator,
                                                                             monkeypatch) -> None:
    from engine.settings import get_settings

    monkeypatch.setenv("ENGINE_BATCH_SIZE", "250")  # several entry batches per round
    get_settings.cache_clear()
    audience: list[int] = []
    activity_id, owner_id = seed_activity(N, lambda a: audience.append(a) or sms_wait_sms(a))
    engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("w", {}).get("entered") == N)
    v1 = rounds(activity_id)[0]
    with write_session() as session:  # new audience members, then V2 published while V1's customers wait
        activity = session.get(Activity, activity_id)
        new_ids = set(upsert_customers(session=session, workspace_id=activity.workspace_id, rows=[
            {"qaid": f"N{i:04d}", "name": f"N{i}", "phone": f"+8613700{i:06d}"} for i in range(NEW)]).ids.values())
        add_members(session=session, audience_id=audience[0], customer_ids=sorted(new_ids))
        svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                    flow=sms_wait_sms(audience[0], "V2"))
    v2 = rounds(activity_id)[1]
    assert (v2.trigger, v2.version_id != v1.version_id) == ("republish", True)
    assert drawer(owner_id, activity_id) == ({1: "draining", 2: "live"}, {1: "Draining", 2: "In Progress"})
    engine.run_until(lambda: engine.store.counters(v2.id).get("w", {}).get("entered") == NEW)
    assert engine.store.counters(v2.id)["t"]["entered"] == NEW  # only the new members entered V2
    assert rounds(activity_id)[0].status == RecordStatus.IN_PROGRESS  # V1 drains: its waiters are still inside
    woke = engine.clock.at
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: all(r.status != RecordStatus.IN_PROGRESS for r in rounds(activity_id)))

    first, second = rounds(activity_id)
    assert (first.status, second.status) == (RecordStatus.COMPLETED, RecordStatus.COMPLETED)
    assert first.ended_at >= woke and engine.store.counters(first.id)["s2"]["entered"] == N  # after its waiters
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.COMPLETED
    touched = sent_by_record([first.id, second.id])
    assert len(touched) == N + NEW and all(len(by) == 1 for by in touched.values())  # one version each
    assert {c for c, by in touched.items() if by == {second.id}} == new_ids  # V2 sent to nobody already inside
    messages = simulator.simulator.messages(limit=10 * N)["messages"]
    by_customer: dict[int, set[int]] = defaultdict(set)
    for message in messages:
        record_id, _node, customer_id = message["id"].split(":")
        by_customer[int(customer_id)].add(int(record_id))
    assert all(m["count"] == 1 for m in messages)  # the provider received every message once
    assert len(messages) == 2 * (N - N // 50 + NEW) and all(len(by) == 1 for by in by_customer.values())
    assert drawer(owner_id, activity_id) == ({1: "", 2: ""}, {1: "Superseded", 2: "Completed"})


def _walk_by_hand(record_id: int, store, batch_size: int) -> list[tuple[str, str]]:
    from engine.runtime.rounds import start_round

    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda _r, n, b: batches.append((n, b)), store=store, batch_size=batch_size)
    return batches


def _entered(store, record_id: int, batches: list[tuple[str, str]]) -> set[int]:
    return {cid for _node, batch in batches for cid in store.get_batch(record_id, batch)}


def test_customers_of_batches_not_walked_yet_are_inside_too(engine) -> None:
    """V1's round has entry batches still pending (not walked, no step rows) when V2's round starts: V2 enters
    none of their customers — only the member added meanwhile. (No scheduler tick: the test walks by hand.)"""
    from engine.runtime.step import run_step

    audience: list[int] = []
    activity_id, owner_id = seed_activity(100, lambda a: audience.append(a) or sms_wait_sms(a))
    first = rounds(activity_id)[0].id
    v1_batches = _walk_by_hand(first, engine.store, 10)
    for node_id, batch in v1_batches[:4]:  # 40 walked (step rows), 60 still pending (Redis only)
        run_step(first, node_id, batch, store=engine.store)
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        [late] = upsert_customers(session=session, workspace_id=activity.workspace_id,
                                  rows=[{"qaid": "LATE", "name": "Late"}]).ids.values()
        add_members(session=session, audience_id=audience[0], customer_ids=[late])
        svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                    flow=sms_wait_sms(audience[0], "V2"))
    second = rounds(activity_id)[1].id
    assert _entered(engine.store, second, _walk_by_hand(second, engine.store, 10)) == {late}
    for node_id, batch in v1_batches[4:]:  # V1's pending customers still walk on V1
        run_step(first, node_id, batch, store=engine.store)
    assert engine.store.counters(first)["s1"]["entered"] == 100


def test_a_round_superseded_before_it_started_enters_nobody(engine) -> None:
    audience: list[int] = []
    activity_id, owner_id = seed_activity(50, lambda a: audience.append(a) or sms_wait_sms(a))
    with write_session() as session:  # republished before the scheduler dispatched V1's round
        svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                    flow=sms_wait_sms(audience[0], "V2"))
    first, second = rounds(activity_id)
    assert first.entry_closed and first.drained_by_id == second.id
    engine.run_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED
                     and engine.store.counters(second.id).get("w", {}).get("entered") == 50)
    assert engine.store.counters(first.id) == {}  # nobody entered V1: all 50 are V2's
    assert drawer(owner_id, activity_id)[0] == {1: "", 2: "live"}


def test_event_entrants_take_the_new_version_and_nobody_enters_twice(engine) -> None:
    """Event-triggered: after the republish new customers enter V2's round only; a customer who entered V1 and
    does the event again enters no round again (one entry per run, as within one round)."""
    from engine.api.app import install_hooks
    from engine.services.events import ingest
    from tests import factories as f

    def flow(version: str) -> dict[str, Any]:
        return {"nodes": [node("ev", "behavior_event", event="add_to_cart", times=1, window_hours=1),
                          node("s1", "text_sms", content=f"{version}: your cart"), node("e", "end")],
                "edges": [{"source": "ev", "branch": "out", "target": "s1"},
                          {"source": "s1", "branch": "out", "target": "e"}]}

    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws)
        created = svc.create_activity(session=session, actor=owner, data=svc.ActivityInput(name="Carts"),
                                      flow=flow("V1"))
        svc.publish(session=session, actor=owner, activity_id=created.id)
        activity_id, owner_id, ws_id = created.id, owner.id, ws.id
    uninstall = install_hooks()
    try:
        def post(*qaids: str) -> None:
            with write_session() as session:
                ingest(session=session, workspace_id=ws_id, events=[{"qaid": q, "name": "add_to_cart"} for q in qaids])

        engine.run_until(lambda: rounds(activity_id)[0].dispatched_at is not None)
        post("A")
        engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("s1", {}).get("entered") == 1)
        with write_session() as session:
            svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id, flow=flow("V2"))
        post("A", "B")
        second = rounds(activity_id)[1]
        engine.run_until(lambda: engine.store.counters(second.id).get("s1", {}).get("entered", 0) >= 1)
        assert engine.store.counters(second.id)["s1"]["entered"] == 1  # one micro-batch: B only, not A again
        engine.run_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED)  # V1 drained
    finally:
        uninstall()
    touched = sent_by_record([r.id for r in rounds(activity_id)])
    with read_session() as session:
        qaid = {c.id: c.qaid for c in session.exec(select(Customer).where(col(Customer.id).in_(list(touched))))}
    assert {qaid[c]: by for c, by in touched.items()} == {"A": {rounds(activity_id)[0].id}, "B": {second.id}}
    assert drawer(owner_id, activity_id)[0] == {1: "", 2: "live"}


def _republished_while_waiting(engine, n: int = 20) -> tuple[int, int, int, int]:
    """(activity, owner, V1 round, V2 round): V1's customers wait; V2 took over (its new members wait too)."""
    audience: list[int] = []
    activity_id, owner_id = seed_activity(n, lambda a: audience.append(a) or sms_wait_sms(a))
    engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("w", {}).get("entered") == n)
    with write_session() as session:
        svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                    flow=sms_wait_sms(audience[0], "V2"))
    first, second = rounds(activity_id)
    return activity_id, owner_id, first.id, second.id


def _stop_round(owner_id: int, record_id: int) -> None:
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, owner_id), record_id=record_id)


def test_stopping_the_draining_round_keeps_the_live_one(engine) -> None:
    activity_id, owner_id, first, second = _republished_while_waiting(engine)
    with read_session() as session:
        actor = session.get(User, owner_id)
        v1 = next(v for v in versions.list_versions(session=session, actor=actor, activity_id=activity_id)
                  if v.number == 1)
        refusal = versions.version_refusal(actor=actor, activity=session.get(Activity, activity_id), row=v1,
                                           action=Action.STOP)
    assert refusal and "stops from Execution Records" in refusal  # Manage Versions points to the drawer
    _stop_round(owner_id, first)
    assert [r.status for r in rounds(activity_id)] == [RecordStatus.STOPPED, RecordStatus.IN_PROGRESS]
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.IN_PROGRESS
    assert drawer(owner_id, activity_id) == ({1: "", 2: "live"}, {1: "Superseded", 2: "In Progress"})


def test_stopping_the_live_round_of_a_one_time_activity_stops_the_draining_one_too(engine) -> None:
    activity_id, owner_id, _first, second = _republished_while_waiting(engine)
    _stop_round(owner_id, second)  # the last live round: the one-time activity stops, and nothing keeps sending
    assert [r.status for r in rounds(activity_id)] == [RecordStatus.STOPPED, RecordStatus.STOPPED]
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.STOPPED


def test_republished_for_a_later_start_the_old_round_drains_and_the_new_one_continues_it(engine, simulator) -> None:
    """V2 published with a start time two hours ahead while V1's customers wait: the activity is Not Started, V1's
    round drains (its end does not complete the activity), and at the start time one round on V2 enters only the
    audience's new members — every customer is touched by one version."""
    from datetime import timedelta

    n = 300
    audience: list[int] = []
    activity_id, owner_id = seed_activity(n, lambda a: audience.append(a) or sms_wait_sms(a))
    engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("w", {}).get("entered") == n)
    v1 = rounds(activity_id)[0]
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        new_ids = set(upsert_customers(session=session, workspace_id=activity.workspace_id, rows=[
            {"qaid": f"L{i:04d}", "name": f"L{i}", "phone": f"+8613600{i:06d}"} for i in range(NEW)]).ids.values())
        add_members(session=session, audience_id=audience[0], customer_ids=sorted(new_ids))
        owner = session.get(User, owner_id)
        data = svc.activity_input(session=session, actor=owner, activity_id=activity_id).model_copy(
            update={"start_time": engine.clock.at + timedelta(hours=2)})
        svc.publish(session=session, actor=owner, activity_id=activity_id, data=data,
                    flow=sms_wait_sms(audience[0], "V2"))
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.NOT_STARTED
    assert [r.number for r in rounds(activity_id)] == [1] and rounds(activity_id)[0].entry_closed

    engine.clock.advance(hours=1, seconds=1)  # V1's waiters go on and its round ends
    engine.run_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED)
    with read_session() as session:  # the round's end did not finish the activity: V2 has not run yet
        assert session.get(Activity, activity_id).status == ActivityStatus.NOT_STARTED

    engine.clock.advance(hours=1)  # the start time: one round on V2, continuing V1's
    engine.run_until(lambda: len(rounds(activity_id)) == 2)
    second = rounds(activity_id)[1]
    assert (second.trigger, second.version_id != v1.version_id) == ("republish", True)
    assert rounds(activity_id)[0].drained_by_id == second.id
    engine.run_until(lambda: engine.store.counters(second.id).get("w", {}).get("entered") == NEW)
    assert engine.store.counters(second.id)["t"]["entered"] == NEW  # V1's customers did not enter again
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: rounds(activity_id)[1].status == RecordStatus.COMPLETED)
    with read_session() as session:
        assert session.get(Activity, activity_id).status == ActivityStatus.COMPLETED
    touched = sent_by_record([v1.id, second.id])
    assert len(touched) == n + NEW and all(len(by) == 1 for by in touched.values())
    assert {c for c, by in touched.items() if by == {second.id}} == new_ids
