"""The canvas's verbs as pure operations on flow data."""

import pytest

from engine.flow import ops
from engine.flow.ops import FlowError, History
from engine.flow.validate import validate_flow

SMS = {"content": "Hi {name}"}
TAGS = {"groups": [{"conditions": [{"tag": "level", "op": "eq", "value": "vip"}]}]}


def build() -> ops.Flow:
    """trigger → tag judgment → (vip) SMS, (others) email — open links left at SMS and email."""
    flow, t = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    flow, j = ops.add_node(flow, "tag_judgment", after=(t, "out"), config=TAGS)
    flow, s = ops.add_node(flow, "text_sms", after=(j, "group_1"), config=SMS)
    flow, e = ops.add_node(flow, "email", after=(j, "others"), config={"subject": "Hi", "body": "Hello"})
    return flow


def test_first_component_must_be_a_trigger_and_only_first() -> None:
    with pytest.raises(FlowError, match="must be a trigger"):
        ops.add_node(ops.empty(), "text_sms", config=SMS)
    flow, t = ops.add_node(ops.empty(), "behavior_event", config={"event": "login"})
    with pytest.raises(FlowError, match="only be the first"):
        ops.add_node(flow, "target_audience", after=(t, "out"))
    with pytest.raises(FlowError, match="end of a link"):
        ops.add_node(flow, "end")


def test_add_end_to_every_open_link_makes_the_flow_publishable() -> None:
    flow = build()
    assert ops.open_links(flow) == [("n3", "out"), ("n4", "out")]
    assert validate_flow(flow)  # open links are refused
    done, added = ops.add_end_to_open_links(flow)
    assert len(added) == 2 and ops.open_links(done) == [] and validate_flow(done) == []
    assert flow == build()  # the input is never mutated


def test_insert_on_a_line_keeps_the_tail() -> None:
    flow, _ = ops.add_end_to_open_links(build())
    out, new = ops.insert_on_link(flow, source="n2", branch="group_1", target="n3", component_type="wait_until",
                                  config={"mode": "period", "hours": 1})
    assert ops.children(out, "n2") == ["n4", new] or set(ops.children(out, "n2")) == {"n4", new}
    assert ops.children(out, new) == ["n3"] and validate_flow(out) == []
    moved = {n["id"]: n["position"]["x"] for n in out["nodes"]}
    assert moved["n3"] > {n["id"]: n["position"]["x"] for n in flow["nodes"]}["n3"]  # the tail made room


def test_connect_reuses_a_tail_and_refuses_loops() -> None:
    flow = build()
    shared = ops.connect(flow, source="n4", branch="out", target="n3")  # email's customers also get the SMS
    assert sorted(ops.parents(shared, "n3")) == ["n2", "n4"]
    with pytest.raises(FlowError, match="loop"):
        ops.connect(shared, source="n3", branch="out", target="n2")
    with pytest.raises(FlowError, match="already linked"):
        ops.connect(shared, source="n4", branch="out", target="n3")


def test_delete_with_subsequent_links_keeps_a_tail_another_path_reaches() -> None:
    flow, _ = ops.add_end_to_open_links(ops.connect(build(), source="n4", branch="out", target="n3"))
    out, gone = ops.delete_with_subsequent(flow, "n4")
    assert gone == ["n4"]  # the SMS and its End are still reached through the VIP branch
    out2, gone2 = ops.delete_with_subsequent(flow, "n2")
    assert set(gone2) == {n["id"] for n in flow["nodes"]} - {"n1"} and [n["id"] for n in out2["nodes"]] == ["n1"]


def test_cut_a_line_removes_what_becomes_unreachable() -> None:
    flow, _ = ops.add_end_to_open_links(build())
    out, gone = ops.cut_link(flow, source="n2", branch="others", target="n4")
    assert "n4" in gone and all(n["id"] != "n4" for n in out["nodes"])
    assert ("n2", "others") in ops.open_links(out)


def test_copy_paste_a_component_and_a_subtree() -> None:
    flow, _ = ops.add_end_to_open_links(build())
    one = ops.copy_node(flow, "n3")
    subtree = ops.copy_node(flow, "n2", with_subsequent=True)
    assert len(one.nodes) == 1 and len(subtree.nodes) == 5 and len(subtree.edges) == 4
    with pytest.raises(FlowError, match="trigger"):
        ops.copy_node(flow, "n1")
    cut, _ = ops.cut_link(flow, source="n2", branch="others", target="n4")
    pasted, mapping = ops.paste(cut, subtree, after=("n2", "others"))
    assert len(pasted["nodes"]) == len(cut["nodes"]) + 5
    assert {n["id"] for n in pasted["nodes"]} >= set(mapping.values())
    copied = next(n for n in pasted["nodes"] if n["id"] == mapping["n2"])
    assert copied["config"] == TAGS and validate_flow(pasted) == []


def test_configure_drops_links_of_removed_branches() -> None:
    flow, _ = ops.add_end_to_open_links(build())
    out = ops.configure(flow, "n2", {"groups": []})
    assert all(e["branch"] != "group_1" for e in out["edges"] if e["source"] == "n2")


def test_undo_redo_many_steps() -> None:
    history = History()
    flow, t = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    history.push(flow)
    states = [flow]
    for _ in range(5):
        flow, _ = ops.add_node(flow, "end", after=(t, "out")) if not ops.children(flow, t) else \
            (ops.move_node(flow, t, {"x": len(states) * 10, "y": 0}), None)
        history.push(flow)
        states.append(flow)
    for expected in reversed(states[:-1]):
        assert history.undo() == expected
    assert history.undo() == ops.empty() and not history.can_undo
    for expected in states:
        assert history.redo() == expected
    assert not history.can_redo
    history.undo()
    history.push(ops.empty())
    assert not history.can_redo  # a new step clears the redo stack
