"""The automatic AB winner on the real engine (Redis, Dramatiq workers, the scheduler, a test clock): 20 % of an
audience is tested, the rest is held at the AB Test; the scheduler's AB pass picks the winner early once the
difference is significant at the level set, or at the window's end, never while it is not; the pick is recorded
once (database + Redis) and the held customers walk on along the winner's branch exactly once, with the
component's counters adding up at each step; a stopped round releases nobody."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import select

from engine.components.ab_test import in_test
from engine.db import read_session, write_session
from engine.models import AbDecision, BehaviorEvent, ExecutionRecord, Role, User, Workspace
from engine.runtime import ab_winner
from engine.runtime.details import all_steps
from engine.services import activities as svc
from engine.services import records
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime.test_lifecycle import act, rounds

N = 1500
SHARE = 20
GROUPS = [{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "400")  # several entry batches: several held batches
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def ab_flow(audience_id: int, **ab) -> dict:
    config = {"groups": GROUPS, "target_event": "purchase", "window_hours": 24, "auto_winner": True,
              "significance": "95", "test_share": SHARE, **ab}
    nodes = [{"id": "t", "type": "target_audience", "config": {"audience_id": audience_id}},
             {"id": "ab", "type": "ab_test", "config": config},
             {"id": "e1", "type": "end", "config": {}}, {"id": "e2", "type": "end", "config": {}}]
    edges = [{"source": "t", "branch": "out", "target": "ab"},
             {"source": "ab", "branch": "group_1", "target": "e1"},
             {"source": "ab", "branch": "group_2", "target": "e2"}]
    return {"nodes": nodes, "edges": edges}


def setup(*, event: bool = False, **ab) -> tuple[int, int, int, list[int]]:
    """A marketer's one-time activity over N customers (or, with `event`, triggered by a "visit" event); returns
    (activity, user, workspace, customer ids)."""
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = list(upsert_customers(session=session, workspace_id=ws.id,
                                    rows=[{"qaid": f"AB{i}", "name": f"AB{i}"} for i in range(N)]).ids.values())
        audience = create_static_audience(session=session, workspace_id=ws.id, name="AB", customer_ids=ids)
        flow = ab_flow(audience.id, **ab)
        if event:
            flow["nodes"][0] = {"id": "t", "type": "behavior_event", "config": {"event": "visit"}}
        activity = svc.create_activity(session=session, actor=owner, flow=flow, data=ActivityInput(name="Auto AB"))
        return activity.id, owner.id, ws.id, ids


def held_batches(engine, record_id: int) -> list[str]:
    return [d["batch"] for _, d in ab_winner.held(engine.store) if d["record"] == record_id]


def started(engine, activity_id: int) -> ExecutionRecord:
    """Publish and walk the entry batches: the test share is split, the rest held (one held batch per entry
    batch)."""
    engine.run_until(lambda: rounds(activity_id) != [] and
                     len(held_batches(engine, rounds(activity_id)[0].id)) == -(-N // 400)
                     and engine.store.pending(rounds(activity_id)[0].id) == -(-N // 400))
    return rounds(activity_id)[0]


def ab_counters(engine, record_id: int) -> dict[str, int]:
    return engine.store.counters(record_id).get("ab", {})


def assert_adds_up(engine, record_id: int) -> dict[str, int]:
    """The AB Test's counters at this instant: entered = passed + waiting, passed = the branches' sum, the groups'
    inflows never more than their branches; the End components reached = what the branches routed."""
    c = engine.store.counters(record_id)
    ab = c.get("ab", {})
    branches = {k: v for k, v in ab.items() if k.startswith("branch:")}
    assert ab["passed"] == sum(branches.values()) and ab["entered"] == N
    assert ab["entered"] - ab["passed"] >= 0 and all(v >= 0 for v in ab.values())
    for i in (1, 2):
        assert ab.get(f"inflow_group_{i}", 0) <= ab.get(f"branch:group_{i}", 0)
        assert c.get(f"e{i}", {}).get("entered", 0) == ab.get(f"branch:group_{i}", 0)
    return ab


@contextmanager
def sampling(engine, record_id: int) -> Iterator[list[int]]:  # noqa: ANN001
    """Read the round's counters over and over in a thread while the block runs, checking `assert_adds_up` at
    each read; yields the AB Test's passed count of every read."""
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                seen.append(assert_adds_up(engine, record_id)["passed"])
            except BaseException as err:  # noqa: BLE001 — reported by the test below
                errors.append(err)
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(10)
    if errors:
        raise errors[0]
    seen.append(assert_adds_up(engine, record_id)["passed"])


def buy(workspace_id: int, customer_ids: list[int], at) -> None:  # noqa: ANN001
    with write_session() as session:
        for cid in customer_ids:
            session.add(BehaviorEvent(workspace_id=workspace_id, customer_id=cid, name="purchase", occurred_at=at))


def in_the_test(record_id: int, ids: list[int]) -> list[int]:
    return [cid for cid in ids if in_test(record_id, "ab", cid, SHARE)]


def routes_of(record_id: int) -> dict[int, list[tuple[str, str, str]]]:
    with read_session() as session:
        rows = all_steps(session, record_id)
    out: dict[int, list[tuple[str, str, str]]] = {}
    for r in rows:
        out.setdefault(r.customer_id, []).append((r.node_id, r.branch, r.result))
    return out


def decision(record_id: int) -> AbDecision | None:
    with read_session() as session:
        return session.exec(select(AbDecision).where(AbDecision.record_id == record_id)).first()


def test_an_early_significant_pick_releases_the_held_customers_to_the_winner_once(engine) -> None:
    activity_id, user_id, ws_id, ids = setup()
    act(svc.publish, activity_id, user_id)
    record = started(engine, activity_id)
    ab = assert_adds_up(engine, record.id)
    test_ids = in_the_test(record.id, ids)
    assert ab["passed"] == len(test_ids) and ab["parked"] == N - len(test_ids)  # the rest waits
    # B converts 40 %, A 10 %: clearly significant at 95 %
    steps = routes_of(record.id)
    group = {cid: branch for cid in test_ids for node, branch, _ in steps[cid] if node == "ab"}
    buyers = [cid for n, cid in enumerate(c for c in test_ids if group[c] == "group_2") if n % 5 < 2] + \
             [cid for n, cid in enumerate(c for c in test_ids if group[c] == "group_1") if n % 10 == 0]
    engine.clock.advance(minutes=5)
    buy(ws_id, buyers, engine.clock())
    now = engine.clock()
    engine.scheduler.refresh_ab_tests(now)
    picked = decision(record.id)
    assert picked is not None and (picked.winner, picked.kind, picked.level) == ("group_2", "significant", "95")
    assert picked.reason == f"significant at 95 % (p<0.001) after {len(test_ids):,} customers"
    assert picked.p_value is not None and picked.p_value < 0.05 and picked.customers == len(test_ids)
    assert {b: (n, x) for b, n, x in json.loads(picked.stats)} == {
        "group_1": (ab["inflow_group_1"], sum(1 for c in buyers if group[c] == "group_1")),
        "group_2": (ab["inflow_group_2"], sum(1 for c in buyers if group[c] == "group_2"))}
    assert engine.store.r.hget(f"abwin:{record.id}", "ab") == b"group_2"
    # the next passes pick nothing new (recorded once), whatever the numbers say now
    buy(ws_id, [c for c in test_ids if group[c] == "group_1"], engine.clock())
    engine.scheduler.refresh_ab_tests(now + timedelta(minutes=1))
    assert decision(record.id).decided_at == picked.decided_at and decision(record.id).winner == "group_2"
    # the pick is the database's: Redis losing its copy (a scheduler crash between the two writes) gets it back
    engine.store.r.delete(f"abwin:{record.id}")
    engine.scheduler.refresh_ab_tests(now + timedelta(minutes=2))
    assert engine.store.r.hget(f"abwin:{record.id}", "ab") == b"group_2"
    with sampling(engine, record.id) as samples:  # the counters add up while the held batches walk, too
        engine.run_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED)
    assert len(samples) > 1 and samples[-1] == N
    ab = assert_adds_up(engine, record.id)
    assert ab["passed"] == N and ab["winner"] == 2
    assert ab["branch:group_2"] == ab["inflow_group_2"] + (N - len(test_ids))
    assert ab["branch:group_1"] == ab["inflow_group_1"]
    steps = routes_of(record.id)
    held = set(ids) - set(test_ids)
    for cid in ids:  # exactly once through the AB Test, and to one End
        at_ab = [(b, r) for node, b, r in steps[cid] if node == "ab"]
        ends = [node for node, _, _ in steps[cid] if node.startswith("e")]
        assert at_ab == ([("group_2", "winner")] if cid in held else [(group[cid], "passed")])
        assert ends == (["e2"] if cid in held else [f"e{group[cid][-1]}"])
    # the released batches are done: resuming them again (a redelivered message) walks nobody twice
    for batch in [f"e{i}~ab~w0" for i in range(-(-N // 400))]:
        engine.scheduler.resume(record.id, "ab", batch)
    engine.run_until(lambda: True, tick=False)
    assert assert_adds_up(engine, record.id)["passed"] == N
    assert Counter(len([n for n, _, _ in s if n.startswith("e")]) for s in routes_of(record.id).values()) == {1: N}


def test_no_pick_while_not_significant_then_the_window_end_picks_the_best_rate(engine) -> None:
    activity_id, user_id, ws_id, ids = setup(significance="99")
    act(svc.publish, activity_id, user_id)
    record = started(engine, activity_id)
    test_ids = in_the_test(record.id, ids)
    steps = routes_of(record.id)
    group = {cid: branch for cid in test_ids for node, branch, _ in steps[cid] if node == "ab"}
    a = [c for c in test_ids if group[c] == "group_1"]
    b = [c for c in test_ids if group[c] == "group_2"]
    engine.clock.advance(minutes=5)
    buy(ws_id, a[:12] + b[:18], engine.clock())  # 12 vs 18 of ~150: not significant at 99 %
    refreshed = engine.scheduler.refresh_ab_tests(engine.clock())
    assert record.id in refreshed and ab_counters(engine, record.id)["targets_achieved"] == 30  # it looked
    assert decision(record.id) is None and engine.store.r.hget(f"abwin:{record.id}", "ab") is None
    assert len(held_batches(engine, record.id)) == -(-N // 400)  # still held
    engine.scheduler.tick()  # nothing due: the round waits
    ab = assert_adds_up(engine, record.id)
    assert ab["passed"] == len(test_ids) and rounds(activity_id)[0].status == RecordStatus.IN_PROGRESS
    engine.clock.advance(hours=23)  # within the window still
    engine.scheduler.refresh_ab_tests(engine.clock())
    assert decision(record.id) is None
    engine.clock.advance(hours=1, minutes=1)  # the 24-hour window has ended
    engine.scheduler.refresh_ab_tests(engine.clock())
    picked = decision(record.id)
    assert picked is not None and (picked.winner, picked.kind) == ("group_2", "window_ended")
    assert picked.reason.startswith(f"window ended: best rate {100 * 18 / len(b):.1f} % vs {100 * 12 / len(a):.1f} %")
    assert "not significant at 99 %" in picked.reason
    engine.run_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED)
    ab = assert_adds_up(engine, record.id)
    assert ab["passed"] == N and ab["branch:group_2"] == len(b) + N - len(test_ids)


def test_a_stopped_round_releases_nobody(engine) -> None:
    activity_id, user_id, ws_id, ids = setup()
    act(svc.publish, activity_id, user_id)
    record = started(engine, activity_id)
    test_ids = in_the_test(record.id, ids)
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, user_id), record_id=record.id)
    engine.clock.advance(hours=25)  # the window has ended too
    buy(ws_id, test_ids[:50], engine.clock())
    engine.scheduler.refresh_ab_tests(engine.clock())
    assert decision(record.id) is None and held_batches(engine, record.id) == []  # dropped, not released
    engine.scheduler.tick()
    for batch in [f"e{i}~ab~w0" for i in range(-(-N // 400))]:  # even a stray resume walks nobody
        engine.scheduler.resume(record.id, "ab", batch)
    engine.run_until(lambda: True)
    ab = assert_adds_up(engine, record.id)
    assert ab["passed"] == len(test_ids) and rounds(activity_id)[0].status == RecordStatus.STOPPED
    assert all(node != "ab" or result != "winner" for s in routes_of(record.id).values() for node, _, result in s)


def test_event_triggered_customers_after_the_pick_go_straight_to_the_winner(engine) -> None:
    from engine.actors import enqueue_step
    from engine.runtime.rounds import enter

    activity_id, user_id, ws_id, ids = setup(event=True)
    act(svc.publish, activity_id, user_id)
    engine.run_until(lambda: rounds(activity_id) != [] and rounds(activity_id)[0].dispatched_at is not None)
    record = rounds(activity_id)[0]
    first, late = ids[:1000], ids[1000:]
    enter(record.id, {cid: {} for cid in first}, enqueue=enqueue_step, store=engine.store)
    test_ids = in_the_test(record.id, first)
    engine.run_until(lambda: ab_counters(engine, record.id).get("entered", 0) == 1000)
    steps = routes_of(record.id)
    group = {cid: branch for cid in test_ids for node, branch, _ in steps[cid] if node == "ab"}
    engine.clock.advance(minutes=5)
    a = [c for c in test_ids if group[c] == "group_1"]
    b = [c for c in test_ids if group[c] == "group_2"]
    buy(ws_id, a[:40] + b[:5], engine.clock())
    engine.scheduler.refresh_ab_tests(engine.clock())
    assert decision(record.id).winner == "group_1"
    engine.run_until(lambda: ab_counters(engine, record.id).get("passed", 0) == 1000)
    inflow = {k: v for k, v in ab_counters(engine, record.id).items() if k.startswith("inflow_")}
    enter(record.id, {cid: {} for cid in late}, enqueue=enqueue_step, store=engine.store)
    engine.run_until(lambda: ab_counters(engine, record.id).get("passed", 0) == N)
    ab = ab_counters(engine, record.id)
    assert {k: v for k, v in ab.items() if k.startswith("inflow_")} == inflow  # no test customer after the pick
    assert ab["branch:group_1"] == inflow["inflow_group_1"] + (N - len(test_ids))
    assert ab["entered"] == N and ab["passed"] == N and ab["parked"] == 1000 - len(test_ids)
    steps = routes_of(record.id)
    assert all([(b, r) for node, b, r in steps[cid] if node == "ab"] == [("group_1", "winner")] for cid in late)
    assert held_batches(engine, record.id) == []


def test_a_test_round_does_not_keep_its_testers_waiting_for_the_window(engine) -> None:
    from engine.services import approval

    activity_id, user_id, ws_id, ids = setup()
    with write_session() as session:
        ws = session.get(Workspace, ws_id)
        ws.approval_required = True
        session.add(ws)
    with write_session() as session:
        owner = session.get(User, user_id)
        for i in range(12):
            approval.add_tester(session=session, actor=owner, activity_id=activity_id, qaid=f"AB{i}")
    with write_session() as session:
        record_id = int(approval.run_test(session=session, actor=session.get(User, user_id),
                                          activity_id=activity_id).id)
    engine.run_until(lambda: ab_counters(engine, record_id).get("entered", 0) == 12)
    held = ab_counters(engine, record_id)["parked"]
    assert held > 0 and ab_counters(engine, record_id)["passed"] == 12 - held  # testers outside the share wait
    engine.scheduler.refresh_ab_tests(engine.clock())  # a pass, minutes before the window's end (the clock stands)
    picked = decision(record_id)
    assert picked is not None and picked.reason.startswith("test round, picked at once: window ended")
    with read_session() as session:
        engine.run_until(lambda: session.get(ExecutionRecord, record_id, populate_existing=True).status
                         == RecordStatus.COMPLETED)
    assert ab_counters(engine, record_id)["passed"] == 12
