"""The canvas knows a component type from what the type declares: a Postcard type registered in the test
(tests/engine/components/postcard.py, one module) is in the palette, starts with its starter config, gets its card
line and icon, and its panel shows the widgets its field hints ask for — with no canvas code touched."""

from collections.abc import Iterator

import pytest

from engine.flow import ops
from marketing_app.states import canvas_form as form
from marketing_app.states import canvas_model as model
from tests.engine.components import postcard


@pytest.fixture(autouse=True)
def card() -> Iterator[postcard.Postcard]:
    with postcard.registered() as component:
        yield component


def _rows(config: dict) -> dict[str, form.FieldRow]:
    """The panel's rows by path (a list's "Add" row under "<path>+")."""
    ctx = form.Context(postcard.TYPE)
    return {r.path + ("+" if r.kind == "add" else ""): r for r in form.rows(postcard.TYPE, config, ctx)}


def test_it_is_in_the_palette_with_its_icon_and_blurb() -> None:
    items = model.palette()
    item = next(i for i in items if i["type"] == postcard.TYPE)
    assert item == {"type": postcard.TYPE, "label": "Postcard", "category": "Marketing Touch", "cat": "touch",
                    "icon": "Image", "blurb": "A picture postcard by email", "trigger": False}
    touch = [i["type"] for i in items if i["cat"] == "touch"]
    assert touch[-1] == postcard.TYPE
    assert model.icons()[postcard.TYPE] == "Image"


def test_a_new_card_starts_with_its_starter_and_shows_its_summary() -> None:
    assert model.starter_config(postcard.TYPE) == {"picture": "beach", "greeting": ""}
    flow, n1 = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    flow, n2 = ops.add_node(flow, postcard.TYPE, after=(n1, "out"), config=model.starter_config(postcard.TYPE))
    nodes, _ = model.view(flow, audiences={1: "All"})
    card = next(n for n in nodes if n["id"] == n2)
    assert (card["icon"], card["cat"], card["configured"], card["summary"]) == ("Image", "touch", False,
                                                                               "Not configured")
    flow = ops.configure(flow, n2, {"picture": "city", "greeting": "Greetings from {name}"})
    card = next(n for n in model.view(flow)[0] if n["id"] == n2)
    assert card["configured"] and card["summary"] == "city: Greetings from {name}"
    assert [b["key"] for b in card["branches"]] == ["out"] and not card["end"]


def test_its_panel_follows_its_field_hints() -> None:
    rows = _rows({"picture": "beach", "greeting": "Hi", "stamps": [{"country": "NZ"}]})
    assert [(o.value, o.label) for o in rows["picture"].options] == [
        ("beach", "A sunny beach"), ("city", "City lights"), ("mountains", "Mountains")]
    assert rows["greeting"].kind == "message" and rows["greeting"].chips == ["{name}", "{qaid}"]
    assert rows["greeting"].count == "2 / 300"
    assert "peak" not in rows  # shown for mountains only
    assert rows["stamps"].kind == "section" and rows["stamps.0"].kind == "item"
    assert rows["stamps.0"].label == "Stamp 1" and rows["stamps.0.country"].value == "NZ"
    assert rows["stamps+"].label == "Add stamp"
    assert _rows({"picture": "mountains", "greeting": "Hi"})["peak"].kind == "text"
    assert "peak" not in _rows({})  # a missing picture is its default, the beach


def test_its_panel_edits_and_words_its_problems() -> None:
    config = form.insert_variable({"greeting": "Hello"}, "greeting", "{name}")
    assert config == {"greeting": "Hello {name}"}
    config = form.add_item(postcard.TYPE, config, "stamps")
    assert config["stamps"] == [{}]
    assert form.describe_path(postcard.TYPE, "stamps.1.country") == "Stamp 1 › Country"
    assert form.humanize(postcard.TYPE, "peak: name the peak on a mountains postcard") == (
        "Peak: name the peak on a mountains postcard")


def test_a_result_judgment_may_pick_it_as_the_send_it_reads() -> None:
    flow, n1 = ops.add_node(ops.empty(), "target_audience", config={"audience_id": 1})
    flow, n2 = ops.add_node(flow, postcard.TYPE, after=(n1, "out"))
    flow, n3 = ops.add_node(flow, "tag", after=(n2, "out"))
    flow, n4 = ops.add_node(flow, "result_judgment", after=(n3, "out"))
    assert model.send_sources(flow, n4) == [(n2, f"Postcard ({n2})")]
    assert model.send_sources(flow, n3) == []  # Tag has no field that picks an earlier send
    rows = {r.path: r for r in form.rows("result_judgment", {}, form.Context("result_judgment",
                                                                             sources=model.send_sources(flow, n4)))}
    assert [(c.value, c.label) for c in rows["node_id"].options] == [(n2, f"Postcard ({n2})")]
