"""The Basic information dialog's "Goal, exits and holdout" section (states/goal_form.py), included by one
line in views/canvas_dialogs.py."""

from typing import Any

import reflex as rx

from marketing_app import styles
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.goal_form import NO_CONDITION, OPS, GoalFormState

G = GoalFormState
H = CanvasHeaderState  # the dialog: an edit clears its refusal


def _on(handler: Any) -> list[Any]:
    return [handler, H.clear_info_error]


def _field(label: str, control: rx.Component, width: str = "100%") -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium"), control, spacing="1", width=width,
                     flex_shrink="0" if width != "100%" else "1")


def _input(value: Any, handler: Any, input_id: str, placeholder: str = "", **props: Any) -> rx.Component:
    return rx.input(value=value, on_change=_on(handler), placeholder=placeholder, id=input_id, **props)


def goal_settings() -> rx.Component:
    no_condition = G.attr_op == NO_CONDITION
    return rx.vstack(
        rx.text("Goal, exits and holdout", size="2", weight="bold"),
        rx.hstack(
            _field("Conversion goal (event)", _input(G.goal_event, G.set_goal_event, "goal-event", "e.g. order_paid",
                                                     width="100%")),
            _field("Within (days)", _input(G.goal_days, G.set_goal_days, "goal-days", width="100%"),
                   width="190px"),
            spacing="3", width="100%",
        ),
        rx.hstack(rx.switch(checked=G.exit_on_goal, on_change=_on(G.set_exit_on_goal), id="goal-exit-on-goal"),
                  rx.text("Reaching the goal takes the customer out of the flow", size="2"),
                  spacing="2", align="center"),
        _field("Exit events (comma-separated)", _input(G.exit_events, G.set_exit_events, "goal-exit-events",
                                                       "e.g. unsubscribe", width="100%")),
        _field("Exit when an attribute", rx.hstack(
            _input(G.attr_name, G.set_attr_name, "goal-attr-name", "attribute, e.g. vip", width="34%",
                   disabled=no_condition),
            rx.select.root(rx.select.trigger(id="goal-attr-op", width="33%"),
                           rx.select.content(*[rx.select.item(label, value=op) for op, label in OPS],
                                             position="popper"),
                           value=G.attr_op, on_change=_on(G.set_attr_op)),
            _input(G.attr_value, G.set_attr_value, "goal-attr-value", "value", width="33%", disabled=no_condition),
            spacing="2", width="100%")),
        rx.hstack(
            _field("Holdout (% of entrants)", _input(G.holdout, G.set_holdout, "goal-holdout", width="100%"),
                   width="230px"),
            rx.text("Held-out customers enter but get no touch; their conversions measure the uplift.", size="1",
                    color=styles.MUTED),
            spacing="3", width="100%", align="end",
        ),
        spacing="2", width="100%", padding="10px", border="1px solid var(--gray-a5)", border_radius="8px",
        id="goal-settings",
    )
