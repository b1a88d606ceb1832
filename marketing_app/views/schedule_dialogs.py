"""The list's Modify dialog (the New activity fields, for a Not Started or Paused activity) and Resume dialog (a
new start time, later than now)."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.time_field import time_field
from marketing_app.states.schedule_actions import ModifyState, ResumeState
from marketing_app.views.new_activity import basics


def _buttons(label: str, on_click: rx.EventHandler, button_id: str, **kw: object) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
        rx.button(label, on_click=on_click, id=button_id, **kw),
        justify="end",
        spacing="3",
        width="100%",
    )


def _error(text: rx.Var[str], error_id: str) -> rx.Component:
    return rx.cond(text != "", rx.callout(text, icon="circle_alert", color_scheme="red", size="1", id=error_id,
                                          width="100%"))


def modify_dialog() -> rx.Component:
    m = ModifyState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(m.title),
            rx.dialog.description("Basic information, schedule and effective period. The flow is edited on the "
                                  "canvas.", size="2", color=styles.MUTED, margin_bottom="16px"),
            rx.vstack(
                *basics(m, "modify"),
                _error(m.error, "modify-error"),
                _buttons("Save", m.submit, "modify-submit", loading=m.saving, disabled=m.name.strip() == ""),
                spacing="4",
            ),
            max_width="520px",
            id="modify-dialog",
        ),
        open=m.open,
        on_open_change=m.set_open,
    )


def resume_dialog() -> rx.Component:
    r = ResumeState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Resume “", r.name, "”"),
            rx.dialog.description("A paused activity restarts at a new start time, later than now. It is Not "
                                  "Started until then; a periodic one runs its cycles from it.", size="2",
                                  color=styles.MUTED, margin_bottom="16px"),
            rx.vstack(
                time_field("New start time", value=r.start, on_change=r.set_start, input_id="resume-start",
                           time_zone=r.time_zone, utc=r.start_utc),
                rx.text(rx.cond(r.end != "", "Ends " + r.end + " (Modify changes it).", "No end time."),
                        size="1", color=styles.MUTED, id="resume-end"),
                _error(r.error, "resume-error"),
                _buttons("Resume", r.submit, "resume-submit"),
                spacing="4",
            ),
            max_width="440px",
            id="resume-dialog",
        ),
        open=r.open,
        on_open_change=r.set_open,
    )
