"""The rule builder's rows <-> the engine's rule format: every condition kind survives the round trip, what the
builder cannot show goes to the JSON editor, and what it produces passes the engine's validator."""

from typing import Any

import pytest

from engine.shared.audiences import validate_rule
from marketing_app.states.audience_builder import blank, rows_for, rule_of, to_cond

RULE: dict[str, Any] = {"any": [
    {"field": "tag:level", "op": "in", "value": ["vip", "gold"]},
    {"field": "attr:age", "op": "gte", "value": 30},
    {"field": "email", "op": "contains", "value": "@example.com"},
    {"field": "phone", "op": "exists", "value": False},
    {"field": "created_at", "op": "within_days", "value": 30},
    {"all": [{"field": "event:purchase", "op": "did_not", "value": {"times": 2, "days": 14}},
             {"field": "audience:7", "op": "member", "value": False},
             {"field": "attr:vip", "op": "eq", "value": True}]},
]}


def test_round_trip() -> None:
    shown = rows_for(RULE)
    assert shown is not None
    root, rows = shown
    assert root == "any" and [r["type"] for r in rows].count("group") == 1
    assert rule_of(root, rows) == RULE
    assert validate_rule(rule_of(root, rows)) == []


@pytest.mark.parametrize("rule", [
    {"all": [{"any": [{"all": [{"field": "qaid", "op": "exists"}]}]}]},  # three levels
    {"all": [{"field": "qaid", "op": "exists"}], "any": [{"field": "qaid", "op": "exists"}]},  # both keys at the root
])
def test_what_the_builder_cannot_show_goes_to_json(rule: dict[str, Any]) -> None:
    assert rows_for(rule) is None


def test_typed_values() -> None:
    row = {**blank("tag"), "field": "score", "op": "gt", "value": "3.5"}
    assert to_cond(row) == {"field": "tag:score", "op": "gt", "value": 3.5}
    row = {**blank("column"), "field": "phone", "op": "eq", "value": "13800000000"}
    assert to_cond(row) == {"field": "phone", "op": "eq", "value": "13800000000"}  # a profile column stays text
    row = {**blank("event"), "field": "purchase", "times": "", "days": "7"}
    assert to_cond(row) == {"field": "event:purchase", "op": "did", "value": {"times": 1, "days": 7}}
    row = {**blank("event"), "field": "purchase", "times": "x", "days": "7"}
    assert validate_rule({"all": [to_cond(row)]})  # not a number: the validator says so
