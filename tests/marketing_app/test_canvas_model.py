"""What the canvas draws and what its panel edits, without a browser: the view of a flow (red dots, dashed lines,
"+" stubs where ops would put the next card), starter configs, the schema-generated panel rows and their edits."""

import pytest

from engine.flow import ops
from engine.flow.registry import REGISTRY
from engine.flow.templates import TEMPLATES
from engine.flow.validate import validate_flow
from marketing_app.states import canvas_form as form
from marketing_app.states import canvas_model as model


def test_palette_groups_every_type_by_category() -> None:
    items = model.palette()
    assert len(items) == len(REGISTRY) == 21
    assert [c.value for c in model.CATEGORY_ORDER] == list(dict.fromkeys(i["category"] for i in items))
    assert all(i["icon"] != "Box" for i in items)
    assert {i["type"] for i in items if i["trigger"]} == {"target_audience", "behavior_event"}


def test_view_marks_unconfigured_cards_and_their_lines() -> None:
    flow, n1 = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    flow, n2 = ops.add_node(flow, "text_sms", after=(n1, "out"))
    nodes, edges = model.view(flow, audiences={1: "All members"})
    by_id = {n["id"]: n for n in nodes}
    assert by_id[n1]["configured"] and by_id[n1]["summary"] == "All members · once"
    assert not by_id[n2]["configured"] and by_id[n2]["summary"] == "Not configured"
    assert edges == [{"id": f"{n1}|out|{n2}", "source": n1, "branch": "out", "target": n2, "dashed": True}]
    # the "+" of the SMS's open link sits where ops puts the next component
    stub = by_id[n2]["branches"][0]
    assert stub["open"]
    after, n3 = ops.add_node(flow, "end", after=(n2, "out"))
    placed = next(n for n in after["nodes"] if n["id"] == n3)["position"]
    base = by_id[n2]["position"]
    assert placed == {"x": base["x"] + stub["offset"]["x"], "y": base["y"] + stub["offset"]["y"]}
    configured = ops.configure(flow, n2, {"content": "Hi {name}"})
    assert not model.view(configured)[1][0]["dashed"]


def test_problems_and_hints_are_flagged_on_their_cards() -> None:
    template = TEMPLATES[1]
    problems = validate_flow(template.flow)
    hints = {k.node_id: {"text": k.hint, "action": k.action} for k in template.key_components}
    nodes, _ = model.view(template.flow, problems=problems, hints=hints)
    flagged = {p.node_id for p in problems if p.node_id}
    assert {n["id"] for n in nodes if n["problem"]} == flagged
    assert {n["id"] for n in nodes if n["hint"]} == set(hints)


@pytest.mark.parametrize("component_type", sorted(REGISTRY))
def test_every_type_has_a_starter_and_a_panel(component_type: str) -> None:
    config = model.starter_config(component_type)
    spec = REGISTRY[component_type]
    ctx = form.Context(component_type, audiences=[(1, "All members")], sources=[("n2", "Webhook (n2)")],
                       errors=form.problems_by_path(spec.validate(config)))
    rows = form.rows(component_type, config, ctx)
    if component_type != "end":
        assert rows
    # splits and judgments start with their branches drawn
    if component_type in ("ab_test", "random_grouping"):
        assert spec.branches(config) == ["group_1", "group_2"]
    if component_type.endswith("judgment"):
        assert spec.branches(config)[-1] == "others" and len(spec.branches(config)) == 2
    # every error the engine reports is next to a field, or in the panel's list on top
    shown = ctx.used | {m.partition(": ")[0] for m in ctx.unshown(spec.validate(config))}
    assert {m.partition(": ")[0] for m in spec.validate(config)} <= shown


def test_panel_edits_follow_the_schema() -> None:
    t = "tag_judgment"
    config = model.starter_config(t)
    config = form.set_text(t, config, "groups.0.conditions.0.tag", "gender")
    config = form.set_text(t, config, "groups.0.conditions.0.value", "female")
    assert REGISTRY[t].validate(config) == []
    config = form.set_text(t, config, "groups.0.conditions.0.op", "in")
    assert config["groups"][0]["conditions"][0]["value"] == ["female"]
    config = form.add_item(t, config, "groups")
    assert REGISTRY[t].branches(config) == ["group_1", "group_2", "others"]
    config = form.remove_item(config, "groups.1")
    assert len(config["groups"]) == 1
    # numbers become numbers; a wrong one stays as typed so the engine names it
    w = form.set_text("wait_until", {"mode": "period"}, "hours", "2")
    assert w == {"mode": "period", "hours": 2} and REGISTRY["wait_until"].validate(w) == []
    assert REGISTRY["wait_until"].validate(form.set_text("wait_until", w, "hours", "two"))
    # ratios: a new group takes what is left, the total row says whether they reach 100
    ab = form.add_item("random_grouping", {"groups": [{"ratio": 70}]}, "groups")
    assert [g["ratio"] for g in ab["groups"]] == [70, 30]
    total = next(r for r in form.rows("random_grouping", ab, form.Context("random_grouping")) if r.kind == "total")
    assert total.ok and total.label == "Total 100%"
    # key / value maps and variables
    d = form.add_pair({}, "params")
    d = form.rename_pair(d, "params", 0, "coupon")
    d = form.set_pair_value(d, "params", 0, "20 off")
    assert d == {"params": {"coupon": "20 off"}}
    assert form.insert_variable({"content": "Hi"}, "content", "{name}") == {"content": "Hi {name}"}


def test_conditional_fields_and_words() -> None:
    paths = {r.path for r in form.rows("wait_until", {"mode": "clock"}, form.Context("wait_until"))}
    assert paths == {"mode", "at"}
    paths = {r.path for r in form.rows("wechat_message", {"msg_type": "miniprogram"}, form.Context("wechat_message"))}
    assert {"title", "appid", "pagepath"} <= paths and "content" not in paths
    assert form.describe_path("event_judgment", "groups.2.conditions.1.event") == "Group 2 › Condition 1 › Event"


def test_unclutter_moves_new_cards_off_others() -> None:
    flow = {"nodes": [{"id": "n1", "type": "target_audience", "config": {}, "position": {"x": 0, "y": 0}},
                      {"id": "n2", "type": "end", "config": {}, "position": {"x": 10, "y": 10}}], "edges": []}
    out = model.unclutter(flow, ["n2"])
    moved = next(n for n in out["nodes"] if n["id"] == "n2")["position"]
    assert moved["x"] == 10 and moved["y"] != 10
    assert model.unclutter(out, ["n2"]) == out


def _chain(length: int) -> tuple[dict, list[str]]:
    flow, first = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    ids = [first]
    for _ in range(length - 1):
        flow, nid = ops.add_node(flow, "text_sms", after=(ids[-1], "out"), position=model.place(flow, ids[-1], "out"))
        ids.append(nid)
    return flow, ids


def test_a_long_chain_wraps_onto_a_new_row() -> None:
    flow, ids = _chain(10)
    at = {str(n["id"]): n["position"] for n in flow["nodes"]}
    xs = sorted({p["x"] for p in at.values()})
    assert len(xs) == model.ROW_COLUMNS, "no row is wider than ROW_COLUMNS cards"
    rows = sorted({p["y"] for p in at.values()})
    assert len(rows) == 3 and all(b - a >= model.HEAD_H + model.ROW_GAP for a, b in zip(rows, rows[1:], strict=False))
    # the 5th card starts the second row under the first card
    assert at[ids[4]] == {"x": at[ids[0]]["x"], "y": rows[1]}


def test_a_splits_branches_never_wrap() -> None:
    flow, ids = _chain(4)
    flow, split = ops.add_node(flow, "ab_test", after=(ids[-1], "out"), config=model.starter_config("ab_test"),
                               position=model.place(flow, ids[-1], "out"))
    split_at = next(n["position"] for n in flow["nodes"] if n["id"] == split)
    assert split_at["y"] > 0, "the split itself is the 5th column: it wraps"
    for branch in ("group_1", "group_2"):
        spot = model.place(flow, split, branch)
        if spot is not None:  # off the cards already there, still in the column beside the split
            assert spot["x"] == split_at["x"] + ops.X_STEP


def test_with_positions_takes_only_finite_numbers_for_known_cards() -> None:
    flow, ids = _chain(3)
    before = [dict(n["position"]) for n in flow["nodes"]]
    out = model.with_positions(flow, {ids[0]: {"x": 10, "y": 20.5}, ids[1]: {"x": float("nan"), "y": 1},
                                      ids[2]: {"x": True, "y": 1}, "n99": {"x": 1, "y": 1}})
    assert [n["position"] for n in out["nodes"]] == [{"x": 10.0, "y": 20.5}, before[1], before[2]]
    assert [n["position"] for n in flow["nodes"]] == before, "the flow given is not changed"
    assert len(out["nodes"]) == 3
    assert model.with_positions(flow, "not a mapping") is flow


def test_cards_without_a_saved_position_are_flagged_for_layout() -> None:
    flow = {"nodes": [{"id": "n1", "type": "target_audience", "config": {}},
                      {"id": "n2", "type": "end", "config": {}, "position": {"x": 5, "y": 6}}],
            "edges": [{"source": "n1", "branch": "out", "target": "n2"}]}
    nodes, _ = model.view(flow)
    assert [(n["id"], n["auto"]) for n in nodes] == [("n1", True), ("n2", False)]
