"""Triggers, Tag, Generate Audience and process control: Wait Until in each customer's time zone, Random
Grouping and AB Test splits (deterministic, within 3 sigma of the ratios), AB winner, End."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.components import ab_test, behavior_event, splitting, wait_until
from engine.components.registry import get_component
from tests.engine.components.conftest import NOW, MemoryPorts, customer, make_batch

SH, NY = "Asia/Shanghai", "America/New_York"


def run(type_: str, config: dict, customers, ports: MemoryPorts, **batch_kw):
    component = get_component(type_)
    assert component.validate(config) == []
    return component.execute(make_batch(customers, **batch_kw), component.parse(config), ports)


# --- triggers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("type_", "config"), [("target_audience", {"audience_id": 1}),
                                               ("behavior_event", {"event": "add_to_cart"})])
def test_triggers_let_the_whole_batch_in(ports: MemoryPorts, type_: str, config: dict) -> None:
    outcome = run(type_, config, [customer(1), customer(2), customer(1)], ports)
    assert outcome.routes == {"out": [1, 2]} and outcome.results == {}


def test_behavior_event_helper_counts_n_times_within_the_window(ports: MemoryPorts) -> None:
    config = behavior_event.BehaviorEventConfig(event="browse_h5", times=2, window_hours=24,
                                                filters=[{"property": "page", "op": "eq", "value": "/promo"}])
    hour = timedelta(hours=1)
    ports.add_event(1, "browse_h5", NOW - 2 * hour, page="/promo")
    ports.add_event(1, "browse_h5", NOW - 1 * hour, page="/promo")  # 1: twice within 24h -> enters
    ports.add_event(2, "browse_h5", NOW - 30 * hour, page="/promo")
    ports.add_event(2, "browse_h5", NOW - 1 * hour, page="/promo")  # 2: second one is outside the window
    ports.add_event(3, "browse_h5", NOW - 1 * hour, page="/promo")
    ports.add_event(3, "browse_h5", NOW - 1 * hour, page="/home")  # 3: one does not meet the filter
    ports.add_event(4, "add_to_cart", NOW - 1 * hour, page="/promo")
    ports.add_event(4, "add_to_cart", NOW - 1 * hour, page="/promo")  # 4: another event
    ports.add_event(5, "browse_h5", NOW - 1 * hour, page="/promo")
    ports.add_event(5, "browse_h5", NOW - 1 * hour, page="/promo")  # 5: not asked about
    assert behavior_event.qualifying(config, [1, 2, 3, 4], ports) == {1}
    query = ports.event_queries[-1]
    assert (query["since"], query["until"]) == (NOW - 24 * hour, NOW)
    assert query["where"] == {"page": [{"op": "eq", "value": "/promo"}]}
    assert behavior_event.qualifying(config, [], ports) == set()


def test_behavior_event_matches_incoming_events() -> None:
    config = behavior_event.BehaviorEventConfig(event="follow", filters=[
        {"property": "source", "op": "in", "value": ["poster", "search"]}])
    assert behavior_event.event_matches(config, "follow", {"source": "poster"})
    assert not behavior_event.event_matches(config, "follow", {"source": "ad"})
    assert not behavior_event.event_matches(config, "unfollow", {"source": "poster"})
    assert behavior_event.event_matches(behavior_event.BehaviorEventConfig(event="follow"), "follow", {})


# --- tag / generate audience / end ------------------------------------------------------------------------

def test_tag_writes_the_value_on_everyone_who_enters(ports: MemoryPorts) -> None:
    outcome = run("tag", {"tag": "membership level", "value": "VIP"}, [customer(1), customer(2)], ports)
    assert ports.tags == {1: {"membership level": "VIP"}, 2: {"membership level": "VIP"}}
    assert outcome.routes == {"out": [1, 2]}


def test_generate_audience_fills_one_audience_per_record_and_node(ports: MemoryPorts) -> None:
    config = {"audience_name": "Failed WeChat"}
    run("generate_audience", config, [customer(1), customer(2)], ports)
    outcome = run("generate_audience", config, [customer(3)], ports)
    run("generate_audience", config, [customer(4)], ports, record_id=8)
    assert ports.generated[(7, "n2")][1:] == ("Failed WeChat", {1, 2, 3})
    assert ports.generated[(8, "n2")][2] == {4}
    assert outcome.routes == {"out": [3]}


def test_end_has_no_branches_and_finishes_everyone(ports: MemoryPorts) -> None:
    outcome = run("end", {}, [customer(1), customer(2)], ports)
    assert outcome.routes == {} and set(outcome.results) == {1, 2}


# --- wait until -------------------------------------------------------------------------------------------

def wake(config: dict, now: datetime, tz: str) -> datetime:
    return wait_until.wake_time(wait_until.WaitUntilConfig(**config), now, tz)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_wait_for_a_period_is_the_same_everywhere() -> None:
    for tz in (SH, NY):
        assert wake({"mode": "period", "hours": 1}, NOW, tz) == NOW + timedelta(hours=1)
        assert wake({"mode": "period", "days": 1, "minutes": 30}, NOW, tz) == NOW + timedelta(days=1, minutes=30)


def test_next_clock_time_in_each_customers_zone() -> None:
    # 05:30 UTC = 13:30 in Shanghai (already past 12:00 -> tomorrow) and 01:30 in New York (EDT -> today)
    now = utc(2026, 3, 10, 5, 30)
    assert wake({"mode": "clock", "at": "12:00"}, now, SH) == utc(2026, 3, 11, 4, 0)
    assert wake({"mode": "clock", "at": "12:00"}, now, NY) == utc(2026, 3, 10, 16, 0)
    # 03:00 UTC = 11:00 in Shanghai -> today 12:00 local
    assert wake({"mode": "clock", "at": "12:00"}, utc(2026, 3, 10, 3, 0), SH) == utc(2026, 3, 10, 4, 0)
    # exactly 12:00 local: now
    assert wake({"mode": "clock", "at": "12:00"}, utc(2026, 3, 10, 4, 0), SH) == utc(2026, 3, 10, 4, 0)
    assert wake({"mode": "clock", "at": "9:05"}, now, SH) == utc(2026, 3, 11, 1, 5)


def test_clock_time_after_n_days_across_a_dst_change() -> None:
    # 2026-03-05 12:00 UTC: New York is on EST (UTC-5); 7 days later (Mar 12) it is on EDT (UTC-4)
    now = utc(2026, 3, 5, 12, 0)
    assert wake({"mode": "days_at", "days": 7, "at": "18:00"}, now, NY) == utc(2026, 3, 12, 22, 0)
    assert wake({"mode": "days_at", "days": 7, "at": "18:00"}, now, SH) == utc(2026, 3, 12, 10, 0)
    # the local date counts: 23:30 UTC on Mar 5 is already Mar 6 in Shanghai
    assert wake({"mode": "days_at", "days": 1, "at": "08:00"}, utc(2026, 3, 5, 23, 30), SH) == utc(2026, 3, 7, 0, 0)


def test_unknown_time_zone_falls_back_to_the_default() -> None:
    assert wake({"mode": "clock", "at": "12:00"}, NOW, "Mars/Olympus") == wake({"mode": "clock", "at": "12:00"},
                                                                               NOW, SH)
    assert wake({"mode": "clock", "at": "12:00"}, NOW, "") == wake({"mode": "clock", "at": "12:00"}, NOW, SH)


def test_wait_until_parks_customers_grouped_by_wake_time(ports: MemoryPorts) -> None:
    ports.clock = utc(2026, 3, 10, 5, 30)
    people = [customer(1, timezone=SH), customer(2, timezone=NY), customer(3, timezone=SH)]
    outcome = run("wait_until", {"mode": "clock", "at": "12:00"}, people, ports)
    assert outcome.parked == [(utc(2026, 3, 10, 16, 0), [2]), (utc(2026, 3, 11, 4, 0), [1, 3])]
    assert outcome.routes == {} and outcome.results == {i: ("parked", None) for i in (1, 2, 3)}


# --- random grouping / AB test ----------------------------------------------------------------------------

N = 10_000


def assert_within_3_sigma(routes: dict[str, list[int]], ratios: list[int]) -> None:
    assert sum(len(ids) for ids in routes.values()) == N
    for i, ratio in enumerate(ratios):
        p = ratio / 100
        got = len(routes[f"group_{i + 1}"])
        assert abs(got - N * p) <= 3 * math.sqrt(N * p * (1 - p)), (i, got)


@pytest.mark.parametrize("ratios", [[20, 30, 50], [50, 50], [10, 10, 80]])
def test_random_grouping_splits_by_ratio_deterministically(ports: MemoryPorts, ratios: list[int]) -> None:
    config = {"groups": [{"ratio": r} for r in ratios]}
    people = [customer(i) for i in range(1, N + 1)]
    outcome = run("random_grouping", config, people, ports)
    assert_within_3_sigma(outcome.routes, ratios)
    # every customer in exactly one group
    assert sorted(cid for ids in outcome.routes.values() for cid in ids) == list(range(1, N + 1))
    # the same again, and the same when the customers arrive in other batches and orders
    assert run("random_grouping", config, people, ports).routes == outcome.routes
    halves = [run("random_grouping", config, list(reversed(people[k::2])), ports).routes for k in (0, 1)]
    for branch, ids in outcome.routes.items():
        assert sorted(halves[0][branch] + halves[1][branch]) == ids
    # another node (or record) draws independently
    other = run("random_grouping", config, people, ports, node_id="n9").routes
    assert other != outcome.routes


@settings(max_examples=60, deadline=None)
@given(ratios=st.lists(st.integers(1, 99), min_size=2, max_size=10),
       ids=st.lists(st.integers(1, 10**12), min_size=1, max_size=300),
       record_id=st.integers(1, 10**9), node_id=st.sampled_from(["rg1", "n-9", "grün"]))
def test_split_puts_each_customer_in_the_group_of_bucket(ratios: list[int], ids: list[int], record_id: int,
                                                         node_id: str) -> None:
    """`split` computes the buckets inline for speed: it must route exactly as `bucket` (the one rule a retried or
    re-batched customer relies on), for any ratios (even not totalling 100), ids, records and node ids."""
    groups = [splitting.SplitGroup(ratio=r) for r in ratios]
    batch = make_batch([customer(i) for i in ids], record_id=record_id, node_id=node_id)
    expected: dict[str, list[int]] = {f"group_{i + 1}": [] for i in range(len(ratios))}
    for cid in dict.fromkeys(ids):
        expected[f"group_{splitting.bucket(record_id, node_id, cid, ratios) + 1}"].append(cid)
    assert splitting.split(batch, groups) == expected


def test_ab_test_splits_and_counts_inflow(ports: MemoryPorts) -> None:
    config = {"groups": [{"ratio": 50}, {"ratio": 50}], "target_event": "purchase"}
    outcome = run("ab_test", config, [customer(i) for i in range(1, N + 1)], ports)
    assert_within_3_sigma(outcome.routes, [50, 50])
    assert outcome.metrics == {f"inflow_{b}": len(ids) for b, ids in outcome.routes.items()}
    assert run("ab_test", config, [customer(i) for i in range(1, N + 1)], ports).routes == outcome.routes


def test_ab_targets_achieved_within_the_window_after_entering(ports: MemoryPorts) -> None:
    config = ab_test.AbTestConfig(groups=[{"ratio": 50}, {"ratio": 50}], target_event="purchase", window_hours=48,
                                  target_filters=[{"property": "amount", "op": "gte", "value": 100}])
    entered = NOW
    routes = {"group_1": [1, 2, 3], "group_2": [4, 5]}
    ports.add_event(1, "purchase", entered + timedelta(hours=5), amount=150)
    ports.add_event(1, "purchase", entered + timedelta(hours=6), amount=150)  # counts once
    ports.add_event(2, "purchase", entered + timedelta(hours=49), amount=150)  # too late
    ports.add_event(3, "purchase", entered - timedelta(hours=1), amount=150)  # before entering
    ports.add_event(4, "purchase", entered + timedelta(hours=47), amount="120")
    ports.add_event(5, "purchase", entered + timedelta(hours=1), amount=20)  # below the filter
    assert ab_test.targets_achieved(config, routes, entered, ports) == {"group_1": 1, "group_2": 1}
    assert ab_test.window_closes(config, entered) == entered + timedelta(hours=48)


@pytest.mark.parametrize(("inflow", "achieved", "winner"), [
    ({"group_1": 100, "group_2": 100}, {"group_1": 10, "group_2": 12}, "group_2"),
    ({"group_1": 100, "group_2": 50}, {"group_1": 20, "group_2": 15}, "group_2"),  # rate, not count
    ({"group_1": 100, "group_2": 200}, {"group_1": 10, "group_2": 20}, "group_2"),  # same rate: more targets
    ({"group_2": 100, "group_1": 100}, {"group_1": 10, "group_2": 10}, "group_1"),  # full tie: first group
    ({"group_1": 100, "group_2": 100}, {}, None),
    ({"group_1": 0, "group_2": 0}, {"group_1": 0}, None),
    ({"group_1": 100, "group_2": 100, "group_10": 10}, {"group_1": 1, "group_10": 5}, "group_10"),
])
def test_winning_group(inflow, achieved, winner) -> None:
    assert ab_test.winning_group(inflow, achieved) == winner
