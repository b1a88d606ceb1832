"""The five judgments: condition groups in order, first match wins, "others" for the rest, a customer never
in two branches; and the condition operators they share."""

import random
from datetime import timedelta

import pytest

from engine.components.conditions import Op, compare, matches_where
from engine.components.registry import get_component
from tests.engine.components.conftest import NOW, MemoryPorts, customer, make_batch


def run(type_: str, config: dict, customers, ports: MemoryPorts, **batch_kw):
    component = get_component(type_)
    assert component.validate(config) == []
    return component.execute(make_batch(customers, **batch_kw), component.parse(config), ports)


def assert_partition(routes: dict[str, list[int]], ids: list[int]) -> None:
    every = [cid for branch in routes.values() for cid in branch]
    assert sorted(every) == sorted(ids), "each customer in exactly one branch"


# --- operators --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("actual", "op", "value", "expected"), [
    ("female", "eq", "female", True), ("female", "eq", "Female", False), ("3", "eq", 3, True),
    (3.0, "eq", "3", True), (True, "eq", "true", True), (None, "eq", "x", False),
    ("a", "neq", "b", True), ("a", "neq", "a", False), (None, "neq", "a", True),
    ("Beijing", "in", ["Beijing", "Shanghai"], True), ("Xian", "in", ["Beijing"], False), ("2", "in", [1, 2], True),
    ("Xian", "not_in", ["Beijing"], True), (None, "not_in", ["Beijing"], True),
    ("Beijing", "not_in", ["Beijing"], False),
    ("10", "gt", 9, True), ("10", "gt", "9", True), (9, "gt", 9, False), (9, "gte", 9, True), (8, "lt", 9, True),
    (9, "lte", 9, True), ("b", "gt", "a", True), ("abc", "gt", 5, True), (None, "gt", 1, False),
    ("2026-03-10", "gte", "2026-03-01", True),
    ("poster_qr", "contains", "poster", True), (["a", "b"], "contains", "b", True), ([1, 2], "contains", "2", True),
    ({"k": 1}, "contains", "k", True), ("x", "contains", "y", False),
    ("x", "exists", None, True), ("", "exists", None, False), (None, "exists", True, False),
    (None, "exists", False, True), ("x", "exists", False, False),
])
def test_compare(actual, op, value, expected) -> None:
    assert compare(actual, Op(op), value) is expected


def test_matches_where() -> None:
    props = {"page": "/promo", "price": 120, "address": {"city": "Hangzhou"}}
    assert matches_where(props, None) and matches_where(props, {})
    assert matches_where(props, {"page": "/promo"})
    assert not matches_where(props, {"page": "/home"})
    assert matches_where(props, {"price": [{"op": "gt", "value": 100}, {"op": "lt", "value": 200}]})
    assert not matches_where(props, {"price": [{"op": "gt", "value": 100}, {"op": "lt", "value": 110}]})
    assert matches_where(props, {"address.city": {"op": "in", "value": ["Hangzhou"]}})
    assert not matches_where({}, {"page": "/promo"})


# --- tag judgment -----------------------------------------------------------------------------------------

def test_tag_judgment_first_matching_group_wins(ports: MemoryPorts) -> None:
    big4 = ["Beijing", "Shanghai", "Guangzhou", "Shenzhen"]
    config = {"groups": [
        {"conditions": [{"tag": "gender", "op": "eq", "value": "female"}, {"tag": "city", "op": "in", "value": big4}]},
        {"conditions": [{"tag": "gender", "op": "eq", "value": "male"}, {"tag": "city", "op": "in", "value": big4}]},
        {"conditions": [{"tag": "city", "op": "exists"}]},
    ]}
    people = [customer(1, tags={"gender": "female", "city": "Beijing"}),
              customer(2, tags={"gender": "male", "city": "Shenzhen"}),
              customer(3, tags={"gender": "female", "city": "Xian"}),  # only group 3
              customer(4, tags={"gender": "female"}),  # none
              customer(5)]
    outcome = run("tag_judgment", config, people, ports)
    assert outcome.routes == {"group_1": [1], "group_2": [2], "group_3": [3], "others": [4, 5]}
    assert outcome.results == {1: ("group_1", None), 2: ("group_2", None), 3: ("group_3", None),
                               4: ("others", None), 5: ("others", None)}


def test_overlapping_groups_take_the_first_only(ports: MemoryPorts) -> None:
    config = {"groups": [{"tag": "vip", "op": "exists"}, {"tag": "vip", "op": "eq", "value": "gold"}]}
    outcome = run("tag_judgment", config, [customer(1, tags={"vip": "gold"})], ports)
    assert outcome.routes == {"group_1": [1], "group_2": [], "others": []}


# --- event judgment ---------------------------------------------------------------------------------------

def test_event_judgment_did_and_did_not(ports: MemoryPorts) -> None:
    hour = timedelta(hours=1)
    ports.add_event(1, "register_app", NOW - 2 * hour)
    ports.add_event(2, "register_app", NOW - 30 * hour)  # outside the 24 h window
    ports.add_event(3, "purchase", NOW - 1 * hour, amount=300)
    ports.add_event(3, "purchase", NOW - 2 * hour, amount=300)
    ports.add_event(4, "purchase", NOW - 1 * hour, amount=30)
    ports.add_event(4, "purchase", NOW - 2 * hour, amount=300)
    config = {"groups": [
        # bought twice (>= 100) within 48 h and did NOT register the app within 24 h
        {"conditions": [{"event": "purchase", "times": 2, "window_hours": 48,
                         "filters": [{"property": "amount", "op": "gte", "value": 100}]},
                        {"event": "register_app", "performed": False, "window_hours": 24}]},
        # did not register the app within 1 day
        {"conditions": [{"event": "register_app", "performed": False, "window_hours": 24}]},
    ]}
    outcome = run("event_judgment", config, [customer(i) for i in (1, 2, 3, 4)], ports)
    assert outcome.routes == {"group_1": [3], "group_2": [2, 4], "others": [1]}
    assert all(q["until"] == NOW for q in ports.event_queries)


# --- attribute judgment -----------------------------------------------------------------------------------

def test_attribute_judgment_reads_the_triggering_event(ports: MemoryPorts) -> None:
    config = {"groups": [{"conditions": [{"property": "source", "op": "eq", "value": "poster"}]},
                         {"conditions": [{"property": "source", "op": "contains", "value": "search"},
                                         {"property": "scene.id", "op": "gt", "value": 10}]}]}
    props = {1: {"source": "poster"}, 2: {"source": "wechat_search", "scene": {"id": 12}},
             3: {"source": "wechat_search", "scene": {"id": 3}}}
    outcome = run("attribute_judgment", config, [customer(i) for i in (1, 2, 3, 4)], ports, trigger_props=props)
    assert outcome.routes == {"group_1": [1], "group_2": [2], "others": [3, 4]}


# --- result judgment --------------------------------------------------------------------------------------

def test_result_judgment_reads_the_previous_touch(ports: MemoryPorts) -> None:
    ports.results[(7, "n3")] = {1: "success", 2: "failed", 3: "pending", 4: "delivered"}
    ports.results[(8, "n3")] = {5: "failed"}  # another record: not read
    config = {"node_id": "n3", "groups": [{"op": "in", "value": ["failed", "pending"]},
                                          {"op": "in", "value": ["success", "delivered"]}]}
    outcome = run("result_judgment", config, [customer(i) for i in (1, 2, 3, 4, 5)], ports, node_id="n5")
    assert outcome.routes == {"group_1": [2, 3], "group_2": [1, 4], "others": [5]}


# --- audience judgment ------------------------------------------------------------------------------------

def test_audience_judgment_overlap_takes_the_highest_priority_only(ports: MemoryPorts) -> None:
    ports.audiences = {10: {1, 2, 3}, 20: {3, 4}}
    config = {"groups": [{"audience_id": 10, "priority": 2}, {"audience_id": 20, "priority": 1}]}
    outcome = run("audience_judgment", config, [customer(i) for i in range(1, 6)], ports)
    assert outcome.routes == {"group_1": [1, 2], "group_2": [3, 4], "others": [5]}
    # without priorities the list order decides
    config = {"groups": [{"audience_id": 10}, {"audience_id": 20}]}
    outcome = run("audience_judgment", config, [customer(i) for i in range(1, 6)], ports)
    assert outcome.routes == {"group_1": [1, 2, 3], "group_2": [4], "others": [5]}


def test_audience_judgment_never_puts_a_customer_in_two_branches(ports: MemoryPorts) -> None:
    rng = random.Random(4)
    ids = list(range(1, 2001))
    for _ in range(20):
        audiences = {aid: {cid for cid in ids if rng.random() < 0.4} for aid in range(1, 5)}
        ports.audiences = audiences
        priorities = rng.sample(range(1, 5), 4)
        groups = [{"audience_id": aid, "priority": p} for aid, p in zip(audiences, priorities, strict=True)]
        outcome = run("audience_judgment", {"groups": groups}, [customer(i) for i in ids], ports)
        assert_partition(outcome.routes, ids)
        for cid in ids:
            member_of = [g for g in groups if cid in audiences[g["audience_id"]]]
            branch = next(b for b, members in outcome.routes.items() if cid in members)
            if member_of:
                best = min(member_of, key=lambda g: g["priority"])
                assert branch == f"group_{groups.index(best) + 1}"
            else:
                assert branch == "others"


@pytest.mark.parametrize("type_", ["tag_judgment", "attribute_judgment", "event_judgment", "result_judgment",
                                   "audience_judgment"])
def test_empty_batch_routes_nobody(ports: MemoryPorts, type_: str) -> None:
    from tests.engine.components.test_validation import GOOD

    outcome = run(type_, GOOD[type_][0], [], ports)
    assert all(ids == [] for ids in outcome.routes.values()) and "others" in outcome.routes
