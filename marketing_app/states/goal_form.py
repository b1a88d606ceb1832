"""The Basic information dialog's "Goal, exits and holdout" section (issue 16): the conversion goal (an event
within N days of entry), the exit criteria (the goal, other events, one condition on attributes) and the
holdout share. Filled from and handed back to the dialog's activity input (CanvasHeaderState: one line each
in open_info and submit_info); every rule is checked by the activities service (engine/shared/goal_rules.py).
"""

from typing import Any

import reflex as rx

from engine.components.conditions import OP_LABELS, Op
from engine.shared.goal_rules import GoalSettings

NO_CONDITION = "none"
OPS: list[list[str]] = [[NO_CONDITION, "no condition"]] + [[op.value, label] for op, label in OP_LABELS.items()]


def _value(op: str, text: str) -> Any:
    """The typed value as the condition takes it: a list for in / not_in, numbers and true / false read."""
    if op == Op.EXISTS:
        return None
    if op in (Op.IN, Op.NOT_IN):
        return [_scalar(part) for part in text.split(",") if part.strip()]
    return _scalar(text)


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _number(text: str) -> int:
    """A whole number, or -1 (the service refuses it with the field's words)."""
    text = text.strip()
    return int(text) if text.isdigit() else -1


class GoalFormState(rx.State):
    goal_event: str = ""
    goal_days: str = "7"
    exit_on_goal: bool = False
    exit_events: str = ""  # comma-separated
    attr_name: str = ""
    attr_op: str = NO_CONDITION
    attr_value: str = ""
    holdout: str = "0"

    def fill(self, raw: dict[str, Any] | None) -> None:
        s = GoalSettings.model_validate(raw or {})
        self.goal_event, self.goal_days, self.exit_on_goal = s.goal_event, str(s.goal_days), s.exit_on_goal
        self.exit_events = ", ".join(s.exit_events)
        first = s.exit_attributes[0] if s.exit_attributes else None
        self.attr_name = str(first.get("property", "")) if first else ""
        self.attr_op = str(first.get("op", "eq")) if first else NO_CONDITION
        value = first.get("value") if first else None
        self.attr_value = ", ".join(map(str, value)) if isinstance(value, list) else \
            ("" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
        self.holdout = str(s.holdout_pct)

    def settings(self) -> GoalSettings:
        """The section as the service takes it (checked there)."""
        conditions = [] if self.attr_op == NO_CONDITION else [
            {"property": self.attr_name.strip(), "op": self.attr_op, "value": _value(self.attr_op, self.attr_value)}]
        return GoalSettings(goal_event=self.goal_event.strip(), goal_days=_number(self.goal_days),
                            exit_on_goal=self.exit_on_goal,
                            exit_events=[n.strip() for n in self.exit_events.split(",") if n.strip()],
                            exit_attributes=conditions, holdout_pct=_number(self.holdout))

    @rx.event
    def set_goal_event(self, value: str):
        self.goal_event = value

    @rx.event
    def set_goal_days(self, value: str):
        self.goal_days = value

    @rx.event
    def set_exit_on_goal(self, value: bool):
        self.exit_on_goal = value

    @rx.event
    def set_exit_events(self, value: str):
        self.exit_events = value

    @rx.event
    def set_attr_name(self, value: str):
        self.attr_name = value

    @rx.event
    def set_attr_op(self, value: str):
        self.attr_op = value

    @rx.event
    def set_attr_value(self, value: str):
        self.attr_value = value

    @rx.event
    def set_holdout(self, value: str):
        self.holdout = value
