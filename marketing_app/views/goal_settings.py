"""The Basic information dialog's "Goal, exits and holdout" section (states/goal_form.py), included by one
line in views/canvas_dialogs.py."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.goal_form import NO_CONDITION, OPS, GoalFormState

G = GoalFormState


def _field(label: str, control: rx.Component, width: str = "100%") -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium"), control, spacing="1", width=width)


def goal_settings() -> rx.Component:
    return rx.vstack(
        rx.text("Goal, exits and holdout", size="2", weight="bold"),
        rx.hstack(
            _field("Conversion goal (event)", rx.input(value=G.goal_event, on_change=G.set_goal_event,
                                                       placeholder="e.g. order_paid", id="goal-event", width="100%")),
            _field("Within (days of entry)", rx.input(value=G.goal_days, on_change=G.set_goal_days, id="goal-days",
                                                      width="100%"), width="190px"),
            spacing="3", width="100%",
        ),
        rx.hstack(rx.switch(checked=G.exit_on_goal, on_change=G.set_exit_on_goal, id="goal-exit-on-goal"),
                  rx.text("Reaching the goal takes the customer out of the flow", size="2"),
                  spacing="2", align="center"),
        _field("Exit events (comma-separated)", rx.input(value=G.exit_events, on_change=G.set_exit_events,
                                                         placeholder="e.g. unsubscribe", id="goal-exit-events",
                                                         width="100%")),
        _field("Exit when an attribute", rx.hstack(
            rx.input(value=G.attr_name, on_change=G.set_attr_name, placeholder="attribute, e.g. vip",
                     id="goal-attr-name", width="34%", disabled=G.attr_op == NO_CONDITION),
            rx.select.root(rx.select.trigger(id="goal-attr-op", width="33%"),
                           rx.select.content(*[rx.select.item(label, value=op) for op, label in OPS],
                                             position="popper"),
                           value=G.attr_op, on_change=G.set_attr_op),
            rx.input(value=G.attr_value, on_change=G.set_attr_value, placeholder="value", id="goal-attr-value",
                     width="33%", disabled=G.attr_op == NO_CONDITION),
            spacing="2", width="100%")),
        rx.hstack(
            _field("Holdout group (% of entrants)", rx.input(value=G.holdout, on_change=G.set_holdout,
                                                             id="goal-holdout", width="100%"), width="230px"),
            rx.text("Held-out customers enter but get no touch; their conversions measure the uplift.", size="1",
                    color=styles.MUTED),
            spacing="3", width="100%", align="end",
        ),
        spacing="2", width="100%", padding="10px", border="1px solid var(--gray-a5)", border_radius="8px",
        id="goal-settings",
    )
