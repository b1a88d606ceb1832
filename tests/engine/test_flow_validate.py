"""The pure flow validator: what Publish refuses and the canvas highlights."""

import copy

import pytest

from engine.flow.registry import REGISTRY, Category
from engine.flow.validate import validate_flow
from tests.factories import valid_flow


def test_registry_has_the_21_component_types() -> None:
    assert len(REGISTRY) == 21
    assert {s.type for s in REGISTRY.values() if s.category == Category.TRIGGER} == {"target_audience",
                                                                                       "behavior_event"}


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
    flow["nodes"][1] = {"id": "n2", "type": "tag_judgment", "config": {"groups": [{"tag": "vip"}]}}
    problems = validate_flow(flow)
    assert {p.message.split("'")[1] for p in problems if "link does not end" in p.message} == {"group_1", "others"}


def test_loops_are_refused() -> None:
    flow = valid_flow()
    flow["nodes"][2] = {"id": "n3", "type": "wait_until", "config": {"mode": "period"}}
    flow["edges"].append({"source": "n3", "branch": "out", "target": "n2"})
    assert any("loop" in p.message for p in validate_flow(flow))
