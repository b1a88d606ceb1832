"""Re-entry rules (issue 16) on the real engine under a controllable clock: periodic audience cycles, behaviour
events through the real events API, live runs held by a Wait Until, and two worker processes racing the same
customers (each enters once)."""

import multiprocessing
import time
from datetime import timedelta

import httpx
from sqlmodel import select

from engine.api.keys import set_api_key
from engine.db import read_session, write_session
from engine.models import Activity, ExecutionRecord, Role, Schedule, User
from engine.runtime import reentry
from engine.runtime.store import RoundStore
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.incoming_refused import refused_users
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.engine.runtime.test_lifecycle import act, rounds, settled, setup_activity

KEY = "amk_test_reentry_key_00000000001"


def _daily(engine, **rule) -> tuple[int, int]:
    """A daily audience activity of 10 customers (Target Audience → [Wait] → Tag → End), published; its first
    cycle has run."""
    wait = rule.pop("wait_hours", 0)
    now = engine.clock()
    activity_id, user_id, _ = setup_activity(n=10, schedule=Schedule.DAILY, start_time=now + timedelta(hours=1),
                                             end_time=now + timedelta(days=30), wait_hours=wait, **rule)
    act(svc.publish, activity_id, user_id)
    engine.clock.advance(hours=1, seconds=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 1 and (wait or settled(engine, activity_id)))
    return activity_id, user_id


def _next_cycle(engine, activity_id: int, *, wait: bool = False) -> ExecutionRecord:
    n = len(rounds(activity_id))
    engine.clock.advance(days=1)
    engine.run_until(lambda: len(rounds(activity_id)) == n + 1 and (wait or settled(engine, activity_id)))
    return rounds(activity_id)[-1]


def _entered(engine, record_id: int, node: str = "t") -> int:
    return engine.store.counters(record_id).get(node, {}).get("entered", 0)


def _refused(engine, record_id: int, node: str = "t") -> dict[str, int]:
    return {k: v for k, v in engine.store.counters(record_id).get(node, {}).items() if k.startswith("refused_")}


def _owner(activity_id: int) -> User:
    with read_session() as session:
        activity = session.get(Activity, activity_id)
        owner = session.get(User, activity.owner_id)
        session.expunge(owner)
        return owner


def _reasons(record_id: int, owner: User) -> dict[str, str]:
    """qaid → reason in words, as the Incoming Users panel lists them."""
    with read_session() as session:
        page = refused_users(session=session, actor=owner, record_id=record_id, page_size=100)
    return {row.qaid: row.reason for row in page.rows}


def test_default_rule_reenters_every_cycle_and_writes_nothing(engine) -> None:
    activity_id, _ = _daily(engine)
    for _ in range(2):
        _next_cycle(engine, activity_id)
    records = rounds(activity_id)
    assert [_entered(engine, r.id, "g") for r in records] == [10, 10, 10]  # every cycle, everyone (today's)
    assert engine.store.r.keys("re:*") == []  # the default rule reads and writes nothing
    assert all(_refused(engine, r.id) == {} for r in records)


def test_once_ever_across_periodic_cycles(engine) -> None:
    activity_id, _ = _daily(engine, reentry="once")
    second = _next_cycle(engine, activity_id)
    third = _next_cycle(engine, activity_id)
    first = rounds(activity_id)[0]
    assert _entered(engine, first.id, "g") == 10
    assert _entered(engine, second.id, "g") == _entered(engine, third.id, "g") == 0
    assert _refused(engine, second.id) == _refused(engine, third.id) == {"refused_once": 10}
    reasons = _reasons(third.id, _owner(activity_id))
    assert len(reasons) == 10 and set(reasons.values()) == {"Entered before — once ever"}
    with read_session() as session:  # the counters per reason outlive Redis: persisted with the round's
        from engine.models import NodeCounter

        rows = session.exec(select(NodeCounter).where(NodeCounter.record_id == third.id,
                                                      NodeCounter.metric == "refused_once")).all()
        assert [r.value for r in rows] == [10]


def test_again_after_n_days(engine) -> None:
    activity_id, _ = _daily(engine, reentry="after_days", reentry_days=2)
    day1 = _next_cycle(engine, activity_id)  # one day after their entry: refused
    day2 = _next_cycle(engine, activity_id)  # two days after: in again
    day3 = _next_cycle(engine, activity_id)  # one day after that entry: refused again
    assert _entered(engine, day1.id, "g") == 0 and _refused(engine, day1.id) == {"refused_after": 10}
    assert _entered(engine, day2.id, "g") == 10 and _refused(engine, day2.id) == {}
    assert _entered(engine, day3.id, "g") == 0
    reasons = _reasons(day1.id, _owner(activity_id))
    assert set(reasons.values()) == {"Entered 1 day ago — re-entry after 2 days"}


def test_one_live_run_holds_customers_parked_in_a_wait(engine) -> None:
    """Cycle 1's customers wait 36 hours: cycle 2 (a day later) refuses them, as "already in a live run"; once
    they reached the End, cycle 3 lets them in again."""
    activity_id, _ = _daily(engine, one_live_run=True, wait_hours=36)
    first = rounds(activity_id)[0]
    engine.run_until(lambda: len(engine.store.due_waits(float("inf"))) > 0, tick=False)
    assert set(reentry.live_runs(engine.store.r, activity_id).values()) == {first.id}
    second = _next_cycle(engine, activity_id, wait=True)
    assert _refused(engine, second.id) == {"refused_live": 10} and _entered(engine, second.id, "w") == 0
    reasons = _reasons(second.id, _owner(activity_id))
    assert set(reasons.values()) == {"Already in a live run — may enter again once they leave the flow"}
    engine.clock.advance(hours=13)  # 37 h after their entry: the wait is over, they walk to the End
    engine.run_until(lambda: reentry.live_runs(engine.store.r, activity_id) == {})  # they left the flow
    assert _entered(engine, first.id, "g") == 10
    third = _next_cycle(engine, activity_id, wait=True)
    engine.run_until(lambda: _entered(engine, third.id, "w") == 10)
    assert _refused(engine, third.id) == {}


def test_stopping_a_round_lets_its_customers_out(engine) -> None:
    activity_id, user_id = _daily(engine, one_live_run=True, wait_hours=36)
    first = rounds(activity_id)[0]
    engine.run_until(lambda: len(reentry.live_runs(engine.store.r, activity_id)) == 10, tick=False)
    from engine.services import records

    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, user_id), record_id=first.id)
    assert reentry.live_runs(engine.store.r, activity_id) == {}
    second = _next_cycle(engine, activity_id, wait=True)
    engine.run_until(lambda: _entered(engine, second.id, "w") == 10)


# ---------------------------------------------------------------- behaviour events through the API


def _event_flow() -> dict:
    return {"nodes": [{"id": "ev", "type": "behavior_event", "config": {"event": "add_to_cart", "times": 1,
                                                                         "window_hours": 1}},
                      {"id": "g", "type": "tag", "config": {"tag": "cart", "value": "yes"}},
                      {"id": "e", "type": "end", "config": {}}],
            "edges": [{"source": "ev", "branch": "out", "target": "g"},
                      {"source": "g", "branch": "out", "target": "e"}]}


def _event_activity(engine, flow: dict | None = None, **rule) -> tuple[int, User]:
    """A daily event-triggered activity (each cycle opens a new round), published and dispatched."""
    now = engine.clock()
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        set_api_key(session=session, workspace_id=ws.id, key=KEY)
        upsert_customers(session=session, workspace_id=ws.id,
                         rows=[{"qaid": f"C{i}", "name": f"C{i}"} for i in range(5)])
        activity = svc.create_activity(session=session, actor=owner, flow=flow or _event_flow(), data=ActivityInput(
            name="Cart", schedule=Schedule.DAILY, start_time=now + timedelta(minutes=1),
            end_time=now + timedelta(days=30), **rule))
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
        activity_id = activity.id
    engine.clock.advance(minutes=1, seconds=1)
    engine.run_until(lambda: len(rounds(activity_id)) == 1)
    return activity_id, _owner(activity_id)


def _post(api: str, engine, record_id: int, qaids: list[str]) -> None:
    """Post the events, then wait until every one of them was decided (entered or refused) in `record_id`."""
    before = _decided(engine, record_id)
    events = [{"qaid": q, "name": "add_to_cart"} for q in qaids]
    response = httpx.post(f"{api}/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        engine.worker.join()
        if _decided(engine, record_id) >= before + len(qaids):
            return
        time.sleep(0.02)
    raise AssertionError("the events were not decided in time")


def _decided(engine, record_id: int) -> int:
    """Customers entered into the round plus customers refused in it."""
    r = engine.store.r
    return int(r.scard(f"entered:{record_id}")) + int(r.zcard(f"re:refused:{record_id}"))


def test_events_once_ever(engine, api) -> None:
    activity_id, owner = _event_activity(engine, reentry="once")
    first = rounds(activity_id)[0]
    _post(api, engine, first.id, ["C0", "C1"])
    engine.run_until(lambda: _entered(engine, first.id, "g") == 2, tick=False)
    _post(api, engine, first.id, ["C0"])  # fired again: once ever
    assert _refused(engine, first.id, "ev") == {"refused_once": 1}
    second = _next_cycle(engine, activity_id, wait=True)
    _post(api, engine, second.id, ["C1", "C2"])  # the next cycle's round: C1 entered before, C2 is new
    engine.run_until(lambda: _entered(engine, second.id, "g") == 1, tick=False)
    assert _reasons(second.id, owner) == {"C1": "Entered before — once ever"}
    assert _refused(engine, second.id, "ev") == {"refused_once": 1}


def test_events_again_after_n_days(engine, api) -> None:
    activity_id, owner = _event_activity(engine, reentry="after_days", reentry_days=7)
    first = rounds(activity_id)[0]
    _post(api, engine, first.id, ["C0"])
    for _ in range(3):
        latest = _next_cycle(engine, activity_id, wait=True)
    _post(api, engine, latest.id, ["C0"])  # three days later
    assert _reasons(latest.id, owner) == {"C0": "Entered 3 days ago — re-entry after 7 days"}
    for _ in range(4):
        latest = _next_cycle(engine, activity_id, wait=True)
    _post(api, engine, latest.id, ["C0"])  # seven days later: in again
    engine.run_until(lambda: _entered(engine, latest.id, "g") == 1, tick=False)
    assert _refused(engine, latest.id, "ev") == {}


def test_events_every_time_with_one_live_run(engine, api) -> None:
    """Every time the trigger fires — each round — but not while still inside: the flow waits 2 days."""
    flow = _event_flow()
    flow["nodes"].append({"id": "w", "type": "wait_until", "config": {"mode": "period", "hours": 48}})
    flow["edges"] = [{"source": "ev", "branch": "out", "target": "w"}, {"source": "w", "branch": "out", "target": "g"},
                     flow["edges"][1]]
    activity_id, owner = _event_activity(engine, flow, one_live_run=True)
    first = rounds(activity_id)[0]
    _post(api, engine, first.id, ["C0"])
    engine.run_until(lambda: len(engine.store.due_waits(float("inf"))) == 1, tick=False)
    second = _next_cycle(engine, activity_id, wait=True)
    _post(api, engine, second.id, ["C0", "C1"])
    assert _reasons(second.id, owner) == {"C0": "Already in a live run — may enter again once they leave the flow"}
    engine.clock.advance(days=1, hours=1)  # C0's wait is over: they reach the End and leave
    engine.run_until(lambda: _cid("C0") not in reentry.live_runs(engine.store.r, activity_id))
    assert _entered(engine, first.id, "g") == 1
    third = rounds(activity_id)[-1]
    assert third.id != second.id
    _post(api, engine, third.id, ["C0"])
    assert "C0" not in _reasons(third.id, owner)
    engine.run_until(lambda: _entered(engine, third.id, "w") == 1, tick=False)
    assert reentry.live_runs(engine.store.r, activity_id) == {_cid("C0"): third.id, _cid("C1"): second.id}


def _cid(qaid: str) -> int:
    from engine.models import Customer

    with read_session() as session:
        return int(session.exec(select(Customer.id).where(Customer.qaid == qaid)).one())


# ---------------------------------------------------------------- two worker processes racing


def _race(redis_url: str, activity_id: int, record_id: int, ids: list[int], start: float, out) -> None:  # noqa: ANN001
    import redis

    store = RoundStore(redis.Redis.from_url(redis_url))
    rule = reentry.Rule(activity_id=activity_id, mode=reentry.ONCE, days=0, one_live=True)
    while time.time() < start:
        pass
    admitted: list[int] = []
    for i in range(0, len(ids), 50):  # many small calls, interleaving with the other process's
        admitted += reentry.admit(store, rule, record_id, "ev", ids[i:i + 50])
    out.put(admitted)


def test_two_worker_processes_racing_admit_each_customer_once(redis_url) -> None:
    ids = list(range(1, 5001))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 1.5
    procs = [ctx.Process(target=_race, args=(redis_url, 7, 70 + n, order, start, out))
             for n, order in enumerate((ids, ids[::-1]))]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    a, b = (set(r) for r in results)
    assert not a & b and a | b == set(ids)  # each customer entered one of the two rounds, once
    import redis

    r = redis.Redis.from_url(redis_url)
    assert r.hlen("re:last:7") == len(ids) and r.hlen("re:live:7") == len(ids)
    refused = sum(int(r.hget(f"c:{70 + n}:ev:refused_once", "n") or 0) for n in range(2))
    assert refused == len(ids)  # every customer the other process let in was refused here, counted once


def test_a_rerun_obeys_the_rule_like_any_round(engine) -> None:
    """Seed 000: a re-run runs a round that could not get its crowd data (nobody entered it) again: it is a round
    like the others for the rule — once ever, the customers of cycle 1 stay out of it."""
    from engine.services import records
    from tests.engine.runtime.test_lifecycle import _set_rule

    activity_id, user_id = _daily(engine, reentry="once")
    first = rounds(activity_id)[0]
    audience_id = _audience_of(activity_id)
    _set_rule(audience_id, "rule", {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]})
    failed = _next_cycle(engine, activity_id)
    assert failed.failure_kind == "crowd_data"
    _set_rule(audience_id, "static", {})
    with write_session() as session:
        records.rerun_record(session=session, actor=session.get(User, user_id), record_id=failed.id)
    engine.run_until(lambda: settled(engine, activity_id) and len(rounds(activity_id)) == 3)
    rerun = rounds(activity_id)[-1]
    assert rerun.trigger == "rerun" and _entered(engine, first.id, "g") == 10
    assert _entered(engine, rerun.id, "g") == 0 and _refused(engine, rerun.id) == {"refused_once": 10}


def _audience_of(activity_id: int) -> int:
    from engine.models import ActivityVersion

    with read_session() as session:
        activity = session.get(Activity, activity_id)
        flow = session.get(ActivityVersion, activity.live_version_id).flow
    return int(next(n for n in flow["nodes"] if n["type"] == "target_audience")["config"]["audience_id"])


def test_an_exit_lets_a_waiting_customer_out_at_once(engine) -> None:
    """At most one live run: customers an exit event takes out of a Wait Until leave the flow when the event
    arrives, not when the wait would have woken — the next cycle lets them in and still refuses the others."""
    from engine.runtime.goals import on_goal_events
    from engine.services import events
    from engine.shared.goal_rules import GoalSettings

    undo = events.register_event_hook(on_goal_events)
    try:
        activity_id, _ = _daily(engine, one_live_run=True, wait_hours=36,
                                goal=GoalSettings(goal_event="order_paid", goal_days=7, exit_on_goal=True))
        first = rounds(activity_id)[0]
        engine.run_until(lambda: len(reentry.live_runs(engine.store.r, activity_id)) == 10, tick=False)
        with write_session() as session:
            workspace_id = session.get(Activity, activity_id).workspace_id
            events.ingest(session=session, workspace_id=workspace_id,
                          events=[{"qaid": f"L{i}", "name": "order_paid"} for i in range(3)])
        live = reentry.live_runs(engine.store.r, activity_id)  # the hook ran after the commit: no waiting
        assert len(live) == 7 and set(live.values()) == {first.id}
        assert engine.store.counters(first.id)["w"]["exited"] == 3
        second = _next_cycle(engine, activity_id, wait=True)
        engine.run_until(lambda: _entered(engine, second.id, "w") == 3)
        assert _refused(engine, second.id) == {"refused_live": 7}
    finally:
        undo()
