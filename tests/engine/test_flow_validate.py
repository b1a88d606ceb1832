"""The pure flow validator: what Publish refuses and the canvas highlights."""

import copy

import pytest

from engine.flow.registry import REGISTRY, Category, get_spec
from engine.flow.validate import validate_flow
from tests.factories import valid_flow


def test_registry_has_the_21_component_types() -> None:
    assert len(REGISTRY) == 21
    assert {s.type for s in REGISTRY.values() if s.category == Category.TRIGGER} == {"target_audience",
                                                                                       "behavior_event"}
    spec = get_spec("random_grouping")
    assert spec is not None and spec.label == "Random Grouping" and not spec.is_trigger
    assert spec.branches({"groups": [{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]}) == ["group_1", "group_2",
                                                                                         "group_3"]
    assert spec.validate({"groups": [{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]}) == []
    assert "properties" in spec.schema()
    assert get_spec("warp_drive") is None


def test_valid_flow_passes() -> None:
    assert validate_flow(valid_flow()) == []


def test_fan_out_and_shared_tail_are_allowed() -> None:
    flow = valid_flow()
    flow["nodes"].append({"id": "n4", "type": "wechat_message", "config": {"content": "hi"}})
    flow["edges"] += [{"source": "n1", "branch": "out", "target": "n4"},
                      {"source": "n4", "branch": "out", "target": "n3"}]
    assert validate_flow(flow) == []


def _broken(mutate) -> dict:
    flow = copy.deepcopy(valid_flow())
    mutate(flow)
    return flow


@pytest.mark.parametrize(("mutate", "node", "words"), [
    (lambda fl: fl.update(nodes=[], edges=[]), None, "empty"),
    (lambda fl: fl["nodes"][1].update(config={}), "n2", "not configured: content"),
    (lambda fl: fl["nodes"][1].update(config={"content": "x" * 501}), "n2", "at most 500 characters"),
    (lambda fl: fl["nodes"][0].update(config={"audience_id": 0}), "n1", "not configured: audience_id"),
    (lambda fl: fl["edges"].pop(), "n2", "does not end in an End"),
    (lambda fl: fl["nodes"][0].update(type="text_sms", config={"content": "x"}), "n1", "start with a trigger"),
    (lambda fl: fl["nodes"][2].update(type="warp_drive"), "n3", "Unknown component type"),
    (lambda fl: fl["edges"].append({"source": "n3", "branch": "out", "target": "n2"}), "n3", "no branch 'out'"),
    (lambda fl: fl["edges"].append({"source": "n2", "branch": "out", "target": "n9"}), "n2", "missing component"),
])
def test_problems_name_the_faulty_component(mutate, node, words) -> None:
    problems = validate_flow(_broken(mutate))
    assert any(p.node_id == node and words in p.message for p in problems), problems


def test_judgment_needs_every_group_and_others_linked() -> None:
    flow = valid_flow()
    flow["nodes"][1] = {"id": "n2", "type": "tag_judgment",
                        "config": {"groups": [{"conditions": [{"tag": "vip", "op": "exists"}]}]}}
    problems = validate_flow(flow)
    assert {p.message.split("'")[1] for p in problems if "link does not end" in p.message} == {"group_1", "others"}
    assert not [p for p in problems if "not configured" in p.message]


def test_an_incomplete_judgment_still_reports_its_branches() -> None:
    flow = valid_flow()
    flow["nodes"][1] = {"id": "n2", "type": "tag_judgment", "config": {"groups": [{"conditions": []}, {}]}}
    flow["edges"][1] = {"source": "n2", "branch": "group_1", "target": "n3"}
    messages = [p.message for p in validate_flow(flow)]
    assert any("not configured: groups.1.conditions" in m for m in messages)
    assert any("'group_2' link does not end" in m for m in messages)
    assert not any("no branch 'group_1'" in m for m in messages)


def test_loops_are_refused() -> None:
    flow = valid_flow()
    flow["nodes"][2] = {"id": "n3", "type": "wait_until", "config": {"mode": "period", "hours": 1}}
    flow["edges"].append({"source": "n3", "branch": "out", "target": "n2"})
    assert any("loop" in p.message for p in validate_flow(flow))


def every_component_flow() -> dict:
    """Behaviour Event → every other component type except Target Audience (one trigger per flow)."""
    def node(nid, type_, **config):
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    def cond(**c):
        return {"conditions": [c]}

    nodes = [
        node("n1", "behavior_event", event="follow", times=1, window_hours=24),
        node("n2", "attribute_judgment", groups=[cond(property="source", op="eq", value="poster")]),
        node("n3", "text_sms", content="Hi {name} {short_link}", link_url="https://x.example/c"),
        node("n4", "wait_until", mode="clock", at="12:00"),
        node("n5", "result_judgment", node_id="n3", groups=[cond(op="eq", value="success")]),
        node("n6", "email", subject="Hi", body="Hello {name}"),
        node("n7", "wechat_message", content="hi"),
        node("n8", "template_message", template_id="T1", keywords={"address": "{store}"}),
        node("n9", "app_push", title="t", body="b"),
        node("n10", "ab_test", groups=[{"ratio": 50}, {"ratio": 50}], target_event="purchase"),
        node("n11", "tag", tag="level", value="VIP"),
        node("n12", "generate_audience", audience_name="WeChat reached"),
        node("n13", "random_grouping", groups=[{"ratio": 20}, {"ratio": 80}]),
        node("n14", "tag_judgment", groups=[cond(tag="gender", op="eq", value="female")]),
        node("n15", "event_judgment", groups=[cond(event="purchase", performed=False)]),
        node("n16", "audience_judgment", groups=[{"audience_id": 1, "priority": 1}, {"audience_id": 2, "priority": 2}]),
        node("n17", "webhook", url="https://crm.example.com/hook"),
        node("n18", "push_kafka", bootstrap_servers="kafka.example.com:9092", topic="buyers"),
        node("n19", "digital_sms", template_id="D1"),
        node("n20", "end"),
    ]
    links = [("n1", "out", "n2"), ("n2", "group_1", "n3"), ("n2", "others", "n10"), ("n3", "out", "n4"),
             ("n4", "out", "n5"), ("n5", "group_1", "n6"), ("n5", "others", "n7"), ("n6", "out", "n8"),
             ("n8", "out", "n9"), ("n9", "out", "n20"), ("n7", "out", "n11"), ("n11", "out", "n12"),
             ("n12", "out", "n20"), ("n10", "group_1", "n13"), ("n10", "group_2", "n14"), ("n13", "group_1", "n15"),
             ("n13", "group_2", "n16"), ("n15", "group_1", "n17"), ("n15", "others", "n20"),
             ("n16", "group_1", "n18"), ("n16", "group_2", "n19"), ("n16", "others", "n20"),
             ("n14", "group_1", "n20"), ("n14", "others", "n20"), ("n17", "out", "n20"), ("n18", "out", "n20"),
             ("n19", "out", "n20")]
    return {"nodes": nodes, "edges": [{"source": s, "branch": b, "target": t} for s, b, t in links]}


def test_a_flow_with_every_component_type_validates() -> None:
    flow = every_component_flow()
    assert {n["type"] for n in flow["nodes"]} | {"target_audience"} == set(REGISTRY)
    assert validate_flow(flow) == []


def test_attribute_judgment_needs_a_behaviour_event_trigger() -> None:
    flow = every_component_flow()
    flow["nodes"][0] = {"id": "n1", "type": "target_audience", "config": {"audience_id": 1}}
    problems = validate_flow(flow)
    assert [(p.node_id, "Behaviour Event" in p.message) for p in problems] == [("n2", True)]


@pytest.mark.parametrize(("source", "ok"), [("n3", True), ("n6", False), ("n4", False), ("n99", False),
                                            ("n2", False)])
def test_result_judgment_reads_an_earlier_touch_or_data_push(source: str, ok: bool) -> None:
    flow = every_component_flow()
    flow["nodes"][4]["config"]["node_id"] = source
    problems = validate_flow(flow)
    assert (problems == []) is ok
    if not ok:
        assert [p.node_id for p in problems] == ["n5"] and "Marketing Touch or Data Push" in problems[0].message
