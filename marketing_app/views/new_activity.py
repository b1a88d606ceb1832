"""The New activity dialog: name (≤ 60) and description (≤ 90) with live counters, sub-activities, start and
end time, group. The limits are the engine's; the service's message shows when a browser check is bypassed."""

import reflex as rx

from engine.models.activity import DESCRIPTION_MAX, NAME_MAX
from marketing_app import styles
from marketing_app.components.campaign_picker import campaign_picker
from marketing_app.components.time_field import time_field
from marketing_app.states.create import NewActivityState
from marketing_app.views.dialogs import group_select

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


def _campaigns() -> rx.Component:
    trigger = rx.button(
        rx.icon("tags", size=14),
        rx.cond(S.campaign_summary != "", S.campaign_summary, "Choose sub-activities"),
        rx.spacer(),
        rx.icon("chevron_down", size=12),
        variant="surface", color_scheme="gray", width="100%", type="button", id="new-campaigns",
        justify="start",
    )
    return campaign_picker(S, trigger, picker_id="new-campaigns")


def new_activity_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New activity"),
            rx.dialog.description("A private Draft that opens on the canvas. Or start from a preset flow: ",
                                  rx.link("New from Template", href="/templates", id="new-from-template"),
                                  size="2", color=styles.MUTED, margin_bottom="16px"),
            rx.vstack(
                _field(
                    _label("Name", "new-name", _counter(S.name_length, NAME_MAX, "new-name-count"), required=True),
                    rx.input(value=S.name, on_change=S.set_name, max_length=NAME_MAX, id="new-name", width="100%",
                             placeholder="e.g. Double 11 warm-up SMS", auto_focus=True),
                ),
                _field(
                    _label("Description", "new-description",
                           _counter(S.description_length, DESCRIPTION_MAX, "new-description-count")),
                    rx.text_area(value=S.description, on_change=S.set_description, max_length=DESCRIPTION_MAX,
                                 id="new-description", width="100%", rows="2",
                                 placeholder="What this activity is for"),
                ),
                _field(_label("Sub-activities", "new-campaigns"), _campaigns()),
                rx.hstack(
                    time_field("Start time", value=S.start, on_change=S.set_start, input_id="new-start",
                               time_zone=S.time_zone, utc=S.start_utc),
                    time_field("End time", value=S.end, on_change=S.set_end, input_id="new-end",
                               time_zone=S.time_zone, utc=S.end_utc),
                    spacing="3",
                    width="100%",
                ),
                rx.text("Leave the start empty to start on publish, the end empty to run until stopped.", size="1",
                        color=styles.MUTED, margin_top="-8px"),
                _field(_label("Group", "new-group"), group_select(S.group, S.set_group, "new-group")),
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
