"""The New activity dialog: name (≤ 60) and description (≤ 90) with live counters, sub-activities, schedule,
start and end time (the effective period), group. The limits are the engine's; the service's message shows when a
browser check is bypassed (a start time in the past is the service's refusal too). The list's Modify dialog
(views/modify.py) shows the same fields (`basics`)."""

import reflex as rx

from engine.models.activity import DESCRIPTION_MAX, NAME_MAX
from marketing_app import styles
from marketing_app.components.campaign_picker import campaign_picker
from marketing_app.components.schedule_field import schedule_field
from marketing_app.components.time_field import time_field
from marketing_app.states.activity_form import ActivityForm
from marketing_app.states.create import NewActivityState
from marketing_app.views.activity_pacing import pacing_fields
from marketing_app.views.cap_exempt_field import cap_exempt_field
from marketing_app.views.dialogs import group_select
from marketing_app.views.reentry_field import reentry_field

S = NewActivityState


def _label(text: str, html_for: str, counter: rx.Component | None = None, required: bool = False) -> rx.Component:
    return rx.hstack(
        rx.text(text, as_="label", html_for=html_for, size="2", weight="medium"),
        rx.text("*", color="var(--red-9)", size="2") if required else rx.fragment(),
        rx.spacer(),
        counter if counter is not None else rx.fragment(),
        width="100%",
        align="center",
        spacing="1",
    )


def _counter(length: rx.Var[int], limit: int, counter_id: str) -> rx.Component:
    return rx.text(length, f"/{limit}", size="1", id=counter_id,
                   color=rx.cond(length > limit, "var(--red-11)", styles.MUTED))


def _field(*children: rx.Component) -> rx.Component:
    return rx.vstack(*children, spacing="1", width="100%", flex="1", min_width="0")


def _campaigns(form: type[ActivityForm], prefix: str) -> rx.Component:
    trigger = rx.button(
        rx.icon("tags", size=14),
        rx.cond(form.campaign_summary != "", form.campaign_summary, "Choose sub-activities"),
        rx.spacer(),
        rx.icon("chevron_down", size=12),
        variant="surface", color_scheme="gray", width="100%", type="button", id=f"{prefix}-campaigns",
        justify="start",
    )
    return campaign_picker(form, trigger, picker_id=f"{prefix}-campaigns")


def basics(form: type[ActivityForm], prefix: str) -> list[rx.Component]:
    """The form's fields, their element ids prefixed with `prefix` (new, modify)."""
    return [
        _field(
            _label("Name", f"{prefix}-name", _counter(form.name_length, NAME_MAX, f"{prefix}-name-count"),
                   required=True),
            rx.input(value=form.name, on_change=form.set_name, max_length=NAME_MAX, id=f"{prefix}-name",
                     width="100%", placeholder="e.g. Double 11 warm-up SMS", auto_focus=True),
        ),
        _field(
            _label("Description", f"{prefix}-description",
                   _counter(form.description_length, DESCRIPTION_MAX, f"{prefix}-description-count")),
            rx.text_area(value=form.description, on_change=form.set_description, max_length=DESCRIPTION_MAX,
                         id=f"{prefix}-description", width="100%", rows="2", placeholder="What this activity is for"),
        ),
        _field(_label("Sub-activities", f"{prefix}-campaigns"), _campaigns(form, prefix)),
        schedule_field(value=form.schedule, on_change=form.set_schedule, every=form.every,
                       on_every_change=form.set_every, field_id=f"{prefix}-schedule"),
        rx.hstack(
            time_field("Start time", value=form.start, on_change=form.set_start, input_id=f"{prefix}-start",
                       time_zone=form.time_zone, utc=form.start_utc),
            time_field("End time", value=form.end, on_change=form.set_end, input_id=f"{prefix}-end",
                       time_zone=form.time_zone, utc=form.end_utc),
            spacing="3",
            width="100%",
        ),
        rx.text("Effective period: the start must be later than now, the end later than the start. Leave the "
                "start empty to start on publish, the end empty to run until stopped.", size="1",
                color=styles.MUTED, margin_top="-8px"),
        _field(_label("Group", f"{prefix}-group"), group_select(form.group, form.set_group, f"{prefix}-group")),
        cap_exempt_field(form.cap_exempt, form.set_cap_exempt, f"{prefix}-cap-exempt"),
        pacing_fields(form, prefix),
        reentry_field(form, prefix),
    ]


def new_activity_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New activity"),
            rx.dialog.description("A private Draft that opens on the canvas. Or start from a preset flow: ",
                                  rx.link("New from Template", href="/templates", id="new-from-template"),
                                  size="2", color=styles.MUTED, margin_bottom="16px"),
            rx.vstack(
                *basics(S, "new"),
                rx.cond(S.error != "", rx.callout(S.error, icon="circle_alert", color_scheme="red", size="1",
                                                   id="new-error", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Create", on_click=S.submit, loading=S.saving,
                              disabled=S.name.strip() == "", id="new-submit"),
                    justify="end",
                    spacing="3",
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="520px",
            id="new-activity-dialog",
        ),
        open=S.open,
        on_open_change=S.set_open,
    )
