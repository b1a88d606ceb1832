"""The "Send window and rate limit" section of an activity's basic information (New activity, Modify, the
canvas's Basic information): bound to a state with the PacingFields mixin; element ids prefixed (new, modify,
info)."""

import reflex as rx

from engine.models.pacing import SKIP, WAIT
from engine.services.pacing import OUTSIDE_LABELS
from marketing_app import styles
from marketing_app.states.canvas_header import CanvasHeaderState as H


def _time(label: str, value: rx.Var, on_change, input_id: str) -> rx.Component:  # noqa: ANN001 — an event handler
    return rx.vstack(
        rx.text(label, as_="label", html_for=input_id, size="1", color=styles.MUTED),
        rx.input(value=value, on_change=on_change, id=input_id, placeholder="HH:MM", max_length=5, width="100%"),
        spacing="1", flex="1", min_width="0",
    )


def pacing_fields(form, prefix: str) -> rx.Component:  # noqa: ANN001 — a state class with PacingFields
    return rx.vstack(
        rx.text("Send window and rate limit", size="2", weight="bold"),
        rx.hstack(
            _time("Window opens", form.pace_start, form.set_pace_start, f"{prefix}-window-start"),
            _time("Window closes", form.pace_end, form.set_pace_end, f"{prefix}-window-end"),
            rx.vstack(
                rx.text("Outside the window", size="1", color=styles.MUTED),
                rx.select.root(
                    rx.select.trigger(width="100%", id=f"{prefix}-window-outside"),
                    rx.select.content(rx.select.item(OUTSIDE_LABELS[WAIT].capitalize(), value=WAIT),
                                      rx.select.item(OUTSIDE_LABELS[SKIP].capitalize(), value=SKIP),
                                      position="popper"),
                    value=form.pace_outside, on_change=form.set_pace_outside,
                ),
                spacing="1", flex="1.4", min_width="0",
            ),
            spacing="3", width="100%", align="end",
        ),
        rx.hstack(
            rx.text("Max messages per minute", as_="label", html_for=f"{prefix}-rate-limit", size="1",
                    color=styles.MUTED, white_space="nowrap"),
            rx.input(value=form.pace_limit, on_change=form.set_pace_limit, id=f"{prefix}-rate-limit",
                     placeholder="No limit", width="120px", input_mode="numeric"),
            spacing="2", align="center", width="100%",
        ),
        rx.text("Times are each customer's local time (their profile's time zone, else the workspace's). Empty: "
                "no window. The limit counts this activity's messages over all its touches; a channel's limit in "
                "Settings → Channels applies too (the stricter wins).", size="1", color=styles.MUTED),
        # boxed like the dialog's "Goal, exits and holdout" section (views/goal_settings.py)
        spacing="2", width="100%", padding="10px", border="1px solid var(--gray-a5)", border_radius="8px",
        id=f"{prefix}-pacing",
    )


def touch_pacing() -> rx.Component:
    """A touch's panel: the activity's effective send window and rate limit (set in Basic information)."""
    return rx.hstack(
        rx.icon("clock", size=14, flex="none", margin_top="2px"),
        rx.text(H.pace_summary, ". Set in Basic information (the pencil); a channel's limit in Settings → "
                "Channels applies too.", size="1"),
        spacing="2", align="start", width="100%", padding="8px 10px", border_radius="8px",
        background="var(--amber-a2)", color="var(--gray-11)", id="panel-pacing",
    )
