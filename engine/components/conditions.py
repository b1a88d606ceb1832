"""Conditions shared by the judgments and the Behaviour Event filters: operators, one comparison function and
the "condition group" shape (conditions ANDed; the first matching group of a judgment wins).

Values compare as numbers when both sides read as numbers ("3" == 3, tags are strings), otherwise as text;
booleans read as "true"/"false". A missing value matches only neq / not_in / exists=false.
"""

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from engine.components.meta import hints

Scalar = str | int | float | bool
Value = Scalar | list[Scalar] | None

MAX_GROUPS = 10
MAX_CONDITIONS = 10

#: panel hints of the list fields judgments share: condition groups (each a branch), conditions, event filters
JUDGMENT_GROUPS = hints(item_name="Group", branch_items=True)
CONDITIONS = hints(item_name="Condition")
FILTERS = hints(item_name="Filter")


class Op(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"
    EXISTS = "exists"


OP_LABELS: dict[Op, str] = {
    Op.EQ: "equals", Op.NEQ: "does not equal", Op.IN: "is one of", Op.NOT_IN: "is none of",
    Op.GT: "greater than", Op.GTE: "at least", Op.LT: "less than", Op.LTE: "at most",
    Op.CONTAINS: "contains", Op.EXISTS: "exists",
}
_LIST_OPS = {Op.IN, Op.NOT_IN}
_ORDER_OPS = {Op.GT, Op.GTE, Op.LT, Op.LTE}


def value_problem(op: Op, value: Value) -> str | None:
    """Why `value` does not fit `op` (None = fine)."""
    if op == Op.EXISTS:
        return None if value is None or isinstance(value, bool) else "'exists' takes no value (or true / false)"
    if op in _LIST_OPS:
        if not isinstance(value, list) or not value:
            return f"'{op.value}' needs a non-empty list of values"
        return None
    if value is None or value == "" or isinstance(value, list):
        return f"'{op.value}' needs one value"
    if op in _ORDER_OPS and _number(value) is None and not isinstance(value, str):
        return f"'{op.value}' needs a number or a text"
    return None


def _number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            return None
    return None


def _text(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return _text(a) == _text(b)


def _order(a: Any, b: Any) -> int | None:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    if isinstance(a, str | int | float) and isinstance(b, str | int | float):
        ta, tb = _text(a), _text(b)
        return (ta > tb) - (ta < tb)
    return None


def _present(x: Any) -> bool:
    return x is not None and x != "" and x != [] and x != {}


def compare(actual: Any, op: Op | str, expected: Value) -> bool:
    """Does `actual` satisfy `op expected`?"""
    op = Op(op)
    if op == Op.EXISTS:
        return _present(actual) if expected in (None, True) else not _present(actual)
    if actual is None:
        return op in (Op.NEQ, Op.NOT_IN)
    if op == Op.EQ:
        return _equal(actual, expected)
    if op == Op.NEQ:
        return not _equal(actual, expected)
    if op in (Op.IN, Op.NOT_IN):
        choices = expected if isinstance(expected, list | str) else ()  # value_problem refuses a number here
        return any(_equal(actual, e) for e in choices) == (op == Op.IN)
    if op == Op.CONTAINS:
        if isinstance(actual, list | tuple | set):
            return any(_equal(a, expected) for a in actual)
        if isinstance(actual, dict):
            return _text(expected) in actual
        return _text(expected) in _text(actual)
    order = _order(actual, expected)
    if order is None:
        return False
    return {Op.GT: order > 0, Op.GTE: order >= 0, Op.LT: order < 0, Op.LTE: order <= 0}[op]


def lookup(data: Mapping[str, Any] | None, key: str) -> Any:
    """`data[key]`, following dots into nested dicts ("address.city") when the plain key is absent."""
    if not data:
        return None
    if key in data:
        return data[key]
    current: Any = data
    for part in key.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def matches_where(properties: Mapping[str, Any] | None, where: dict[str, Any] | None) -> bool:
    """Evaluate an event filter as passed to `Ports.event_counts(where=...)` on one event's properties:
    property -> plain value (equality) or property -> [{"op", "value"}, ...] (all must hold)."""
    for key, rule in (where or {}).items():
        actual = lookup(properties, key)
        if isinstance(rule, dict) and "op" in rule:
            rule = [rule]
        if isinstance(rule, list) and rule and all(isinstance(r, dict) and "op" in r for r in rule):
            if not all(compare(actual, r["op"], r.get("value")) for r in rule):
                return False
        elif not compare(actual, Op.EQ, rule):
            return False
    return True


class ConditionBase(BaseModel):
    """Operator and value; subclasses add what is compared (a tag, a property, ...)."""

    op: Op = Field(Op.EQ, title="Operator", description="eq, neq, in, not_in, gt, gte, lt, lte, contains, exists")
    value: Value = Field(None, title="Value", description="One value; a list for in / not_in; none for exists")

    @model_validator(mode="after")
    def _value_fits_op(self) -> "ConditionBase":
        problem = value_problem(self.op, self.value)
        if problem:
            raise ValueError(problem)
        return self

    def holds(self, actual: Any) -> bool:
        return compare(actual, self.op, self.value)

    def tester(self) -> Callable[[Any], bool]:
        """`holds` for a whole batch: remembers the answer per distinct value (tags, results and most
        attributes take few values, so a batch of thousands costs a handful of comparisons)."""
        memo: dict[Any, bool] = {}
        op, expected = self.op, self.value

        def test(actual: Any) -> bool:
            try:
                return memo[actual]
            except KeyError:
                if len(memo) > 4096:
                    memo.clear()
                answer = memo[actual] = compare(actual, op, expected)
                return answer
            except TypeError:  # unhashable (a list or dict property)
                return compare(actual, op, expected)

        return test


class PropertyCondition(ConditionBase):
    """A condition on a property of a behaviour event."""

    property: str = Field(min_length=1, max_length=60, title="Property", description="Event property, e.g. source")


def to_where(conditions: list[PropertyCondition]) -> dict[str, Any] | None:
    """Property conditions as the `where` filter of `Ports.event_counts`."""
    where: dict[str, list[dict[str, Any]]] = {}
    for c in conditions:
        where.setdefault(c.property, []).append({"op": c.op.value, "value": c.value})
    return where or None


def wrap_single_condition(raw: Any) -> Any:
    """A condition group may be written as one condition ({"tag": "vip", ...}): wrap it in a group."""
    if isinstance(raw, dict) and "conditions" not in raw and raw:
        name = raw.get("name", "")
        return {"name": name, "conditions": [{k: v for k, v in raw.items() if k != "name"}]}
    return raw


class ConditionGroupBase(BaseModel):
    """A condition group: subclasses add `conditions: list[...]` (all must hold)."""

    name: str = Field("", max_length=40, title="Group name", description="Shown on the branch; optional")

    @model_validator(mode="before")
    @classmethod
    def _single_condition(cls, raw: Any) -> Any:
        return wrap_single_condition(raw)
