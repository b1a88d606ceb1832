"""The canvas header's note on the round shown: "Round #3 · In Progress" with a live dot while its numbers
refresh, or "Not run yet" on a read-only canvas of a version without a round (configuration only)."""

import reflex as rx

from marketing_app.states.execution import ExecutionState

E = ExecutionState


def execution_badge() -> rx.Component:
    return rx.cond(
        E.shown,
        rx.badge(
            rx.cond(E.live, rx.box(class_name="live-dot")),
            rx.text(E.record_label, id="canvas-record-label"),
            rx.cond(E.live, rx.text("· live", size="1", id="canvas-live")),
            size="1", variant="outline", color_scheme=rx.cond(E.live, "green", "gray"), id="canvas-record",
            title=rx.cond(E.live, "The numbers refresh every 1.5 seconds while the round is in progress (last at "
                          + E.updated_at + ").", "Click a component's numbers for its details."),
            custom_attrs={"data-live": rx.cond(E.live, "true", "false"), "data-record": E.record_id.to_string(),
                          "data-status": E.record_status},
        ),
        rx.cond(E.never_ran, rx.badge("Not run yet: configuration only", size="1", variant="soft",
                                      color_scheme="gray", id="canvas-no-round")),
    )
