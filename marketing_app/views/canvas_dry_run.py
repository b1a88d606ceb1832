"""The canvas's Dry run: the header's button (beside Publish), its dialog (a sample of the audience, or one
customer by QAID) and the panel on the right listing what the run found — the sample, who would enter, and the
customers the flow would drop with the reason. The per-card and per-line numbers are drawn by the canvas itself
(pages/canvas.py hands it `DryRunState.data`)."""

import reflex as rx

from engine.services.dry_run import MAX_LISTED, MAX_SAMPLE
from marketing_app import styles
from marketing_app.states.canvas_dry_run import DryRunState

D = DryRunState
PANEL_WIDTH = "420px"


def dry_run_button() -> rx.Component:
    return rx.button(rx.icon("flask_conical", size=14), "Dry run", variant="soft", color_scheme="violet", size="2",
                     on_click=D.set_dialog_open(True), id="canvas-dry-run",
                     title="Run the flow on a sample of its real audience without sending anything")


def dry_run_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Dry run"),
            rx.dialog.description(
                "The flow as it is on the canvas runs on real customers, reading their real data — nothing is "
                "sent, written or counted. Waits are passed through.", size="2", color=styles.MUTED),
            rx.vstack(
                rx.text("Sample size (customers of the trigger's audience)", as_="label", html_for="dry-run-size",
                        size="2", weight="medium"),
                rx.input(value=D.sample_size, on_change=D.set_sample_size, id="dry-run-size", width="100%",
                         placeholder=f"1 to {MAX_SAMPLE:,}"),
                rx.text("Or one customer (QAID)", as_="label", html_for="dry-run-qaid", size="2", weight="medium"),
                rx.input(value=D.qaid, on_change=D.set_qaid, id="dry-run-qaid", width="100%",
                         placeholder="Leave empty for the sample"),
                rx.cond(D.error != "", rx.callout(D.error, icon="circle_alert", color_scheme="red", size="1",
                                                  id="dry-run-error", width="100%")),
                spacing="2", margin_top="14px", width="100%",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="dry-run-cancel")),
                rx.button(rx.icon("play", size=14), "Run", on_click=D.start, loading=D.running, id="dry-run-go"),
                justify="end", spacing="3", margin_top="20px",
            ),
            max_width="480px", id="dry-run-dialog",
        ),
        open=D.dialog_open,
        on_open_change=D.set_dialog_open,
    )


def _reason(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(rx.text(row["count"], size="2", weight="bold", class_name="nowrap"),
                     rx.text(row["reason"], size="2"), spacing="2", align="start", class_name="dry-run-reason")


def _drop(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(row["qaid"], size="1", weight="medium", class_name="mono nowrap", title=row["name"])),
        rx.el.td(rx.text(row["reason"], size="1"), title=row["component"]),
        class_name="dry-run-drop", custom_attrs={"data-qaid": row["qaid"], "data-node": row["node"]},
    )


def dry_run_panel() -> rx.Component:
    return rx.cond(
        D.shown,
        rx.vstack(
            rx.hstack(
                rx.icon("flask_conical", size=16, color="var(--violet-11)"),
                rx.text("Dry run", weight="bold", size="3"),
                rx.text("at ", D.ran_at, size="1", color=styles.MUTED),
                rx.spacer(),
                rx.button("Clear", size="1", variant="soft", color_scheme="gray", on_click=D.clear,
                          id="dry-run-clear", title="Take the dry run's numbers off the canvas"),
                width="100%", align="center",
            ),
            rx.text(D.sample, size="2", id="dry-run-sample"),
            rx.hstack(
                rx.badge(D.entered.to_string() + " entered", color_scheme="blue", id="dry-run-entered"),
                rx.badge(D.dropped.to_string() + " dropped", color_scheme="red", id="dry-run-dropped"),
                rx.badge("nothing sent", color_scheme="gray", variant="outline"),
                spacing="2",
            ),
            rx.foreach(D.notes, lambda n: rx.text(n, size="1", color=styles.MUTED, class_name="dry-run-note")),
            rx.cond(D.reasons.length() > 0,
                    rx.vstack(rx.text("Why customers drop", size="2", weight="medium"),
                              rx.foreach(D.reasons, _reason), spacing="1", width="100%", id="dry-run-reasons")),
            rx.cond(D.drops.length() > 0,
                    rx.box(
                        rx.el.table(
                            rx.el.thead(rx.el.tr(rx.el.th("QAID", text_align="left"),
                                                 rx.el.th("Dropped because", text_align="left"))),
                            rx.el.tbody(rx.foreach(D.drops, _drop)),
                            width="100%", class_name="dry-run-table",
                        ),
                        rx.cond(D.dropped > D.listed,
                                rx.text(f"The first {MAX_LISTED} are listed.", size="1", color=styles.MUTED)),
                        overflow_y="auto", flex="1", min_height="0", width="100%",
                    )),
            rx.text("Numbers of the flow as it was run; edit it and run again to update them. Splits use the "
                    "engine's own assignment; the live round's groups hold the same shares.", size="1",
                    color=styles.MUTED),
            spacing="3", width=PANEL_WIDTH, min_width=PANEL_WIDTH, height="100%", padding="14px",
            background=styles.PANEL_BG, border_left=styles.BORDER, overflow="hidden", id="dry-run-panel",
        ),
    )
