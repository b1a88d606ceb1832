"""Every component type declares what the canvas shows of it (icon, blurb, summary, starter config) and its field
hints correctly, and the registry finds each component module of the package by itself."""

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import engine.components as package
from engine.components.base import Component
from engine.components.meta import HINTS_KEY, FieldHints, SummaryContext, hints_of
from engine.components.registry import COMPONENTS, components_of, is_send, send_types
from engine.components.sending import SendingComponent
from engine.flow.registry import REGISTRY

TYPES = list(COMPONENTS)
JSX = Path(__file__).parents[3] / "assets" / "canvas" / "flow_canvas.jsx"
KNOWN_HINTS = set(FieldHints.__annotations__)


def _bundled_icons() -> set[str]:
    """The lucide icons the canvas bundle maps by name (flow_canvas.jsx's ICONS): any other shows as a box."""
    found = re.search(r"const ICONS = \{(.*?)\};", JSX.read_text(), re.S)
    assert found, "flow_canvas.jsx has no ICONS table"
    return {name.strip() for name in found.group(1).split(",") if name.strip()}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return root["$defs"][ref.split("/")[-1]] if isinstance(ref, str) else schema


def _fields(root: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(owner object schema, field name, field schema) of every field of a config, nested ones included."""
    out: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
    objects = [root, *root.get("$defs", {}).values()]
    for owner in objects:
        for name, prop in owner.get("properties", {}).items():
            out.append((owner, name, prop))
    return out


def test_the_registry_holds_every_component_module_of_the_package_in_palette_order() -> None:
    defined = [c.type for info in pkgutil.iter_modules(package.__path__)
               for c in components_of(importlib.import_module(f"engine.components.{info.name}"))]
    assert sorted(defined) == sorted(COMPONENTS) and len(COMPONENTS) == 21
    assert list(REGISTRY) == TYPES
    assert TYPES[:3] == ["target_audience", "behavior_event", "text_sms"] and TYPES[-1] == "push_kafka"


def test_sending_types_are_the_sending_components() -> None:
    assert send_types() == {"text_sms", "digital_sms", "email", "wechat_message", "template_message", "app_push",
                            "webhook", "push_kafka"}
    assert all(is_send(t) == isinstance(c, SendingComponent) for t, c in COMPONENTS.items())
    assert not is_send("no_such_type")


@pytest.mark.parametrize("component_type", TYPES)
def test_each_type_declares_icon_blurb_and_a_starter_without_guesses(component_type: str) -> None:
    component: Component = COMPONENTS[component_type]
    meta = component.meta
    assert meta.icon in _bundled_icons()
    assert meta.blurb and len(meta.blurb) <= 40
    starter = meta.starter_config()
    assert starter == meta.starter and starter is not meta.starter  # a copy: adding a component cannot change it
    # the starter parses (its problems only ask for what it leaves unset: never a wrong guessed value) ...
    for problem in component.validate(starter):
        path = problem.partition(": ")[0].split(".")
        value: Any = starter
        for part in path:
            value = value[int(part) - 1] if isinstance(value, list) else (value or {}).get(part)
        assert value in (None, ""), f"{component_type}: the starter sets {path} wrong: {problem}"
    # ... and already shows the branches it will have
    assert component.branches_of(starter) == component.branches_of(starter | {"_": 1})
    # the summary line never fails on a starter, an empty or an odd config
    ctx = SummaryContext(audiences={1: "VIP"}, labels={"n1": "Text SMS (n1)"})
    for config in (starter, {}, {"groups": [None, 3, {"ratio": "x"}], "url": "::", "days": "2", "mode": "period"}):
        assert isinstance(meta.summary(config, ctx), str)


@pytest.mark.parametrize("component_type", TYPES)
def test_field_hints_name_what_exists(component_type: str) -> None:
    root = COMPONENTS[component_type].schema()
    for owner, name, prop in _fields(root):
        hint = hints_of(prop)
        assert set(hint) <= KNOWN_HINTS, f"{component_type}.{name}: unknown hints {set(hint) - KNOWN_HINTS}"
        field = _resolve(prop, root)
        if "enum_labels" in hint:
            assert set(hint["enum_labels"]) <= set(field["enum"])
        if hint.get("widget") in ("message", "time"):
            assert field.get("type") == "string"
        if hint.get("widget") == "audience":
            assert field.get("type") == "integer"
        for chip in hint.get("chips", []):
            assert re.fullmatch(r"\{\w+\}", chip)
        for other, values in hint.get("shown_when", {}).items():
            assert other in owner["properties"], f"{name} depends on an unknown field {other}"
            target = _resolve(owner["properties"][other], root)
            # a switch shows its dependants when on: the panel compares str(value) ("True"; "" when off)
            assert set(values) <= ({"True", ""} if target.get("type") == "boolean" else set(target["enum"]))
        if {"item_name", "branch_items", "ratio_total", "new_item", "value_placeholder"} & set(hint):
            assert field.get("type") == "array"
        if hint.get("ratio_total"):
            item = _resolve(field["items"], root)
            assert "ratio" in item["properties"] and COMPONENTS[component_type].meta.splits
    assert HINTS_KEY not in root  # hints sit on fields, not on the config as a whole


def test_hints_on_shared_fields_reach_every_type_that_uses_them() -> None:
    """Condition groups, conditions and event filters are declared once (engine.components.conditions)."""
    groups = {t: hints_of(COMPONENTS[t].schema()["properties"]["groups"]) for t in TYPES
              if "groups" in COMPONENTS[t].schema()["properties"]}
    assert set(groups) == {"ab_test", "random_grouping", "tag_judgment", "event_judgment", "attribute_judgment",
                           "result_judgment", "audience_judgment"}
    assert all(h.get("branch_items") for h in groups.values())
    assert {t for t, h in groups.items() if h.get("ratio_total")} == {"ab_test", "random_grouping"}
    assert groups["audience_judgment"]["item_name"] == "Audience"
    assert {t for t, c in COMPONENTS.items() if c.meta.splits} == {"ab_test", "random_grouping"}
    assert [t for t, c in COMPONENTS.items() if c.meta.terminal] == ["end"]
