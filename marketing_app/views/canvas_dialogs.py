"""The canvas's dialogs: confirmations (delete with subsequent links, cut a line, leave unsaved), the pencil's
basic information, a template hint's View rules / View content; and the floating windows over the canvas: the
publish problems and the template details."""

import reflex as rx

from engine.models.activity import DESCRIPTION_MAX, NAME_MAX
from marketing_app import styles
from marketing_app.components.campaign_picker import campaign_picker
from marketing_app.components.schedule_field import schedule_field
from marketing_app.components.time_field import time_field
from marketing_app.states.canvas import CanvasState, Problem
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_template import CanvasTemplateState, KeyItem
from marketing_app.states.groups import GroupOption
from marketing_app.views.activity_pacing import pacing_fields
from marketing_app.views.cap_exempt_field import cap_exempt_field
from marketing_app.views.goal_settings import goal_settings
from marketing_app.views.reentry_field import reentry_field

S = CanvasState  # confirmations, publish problems
H = CanvasHeaderState  # the pencil's Basic information
T = CanvasTemplateState  # template details and hints


def confirm_dialog() -> rx.Component:
    leaving = S.confirm_kind == "leave"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(S.confirm_title),
            rx.alert_dialog.description(S.confirm_body, size="2", color=styles.MUTED),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(rx.cond(leaving, "Stay", "Cancel"), variant="soft",
                                                 color_scheme="gray", id="canvas-confirm-cancel")),
                rx.button(rx.match(S.confirm_kind, ("delete", "Delete"), ("cut", "Cut"), "Leave"),
                          color_scheme=rx.cond(leaving, "amber", "red"), on_click=S.confirm,
                          id="canvas-confirm-ok"),
                justify="end", spacing="3", margin_top="20px",
            ),
            max_width="460px",
            id="canvas-confirm",
        ),
        open=S.confirm_open,
        on_open_change=S.set_confirm_open,
    )


def _label(text: str, html_for: str, counter: rx.Component | None = None) -> rx.Component:
    return rx.hstack(rx.text(text, as_="label", html_for=html_for, size="2", weight="medium"), rx.spacer(),
                     counter if counter is not None else rx.fragment(), width="100%", align="center")


def _group_item(option: rx.Var[GroupOption]) -> rx.Component:
    return rx.select.item(
        rx.text(option.label, padding_left=(option.depth * 14).to_string() + "px"), value=option.value)


def info_dialog() -> rx.Component:
    trigger = rx.button(rx.icon("tags", size=14),
                        rx.cond(H.campaign_summary != "", H.campaign_summary, "Choose sub-activities"),
                        rx.spacer(), rx.icon("chevron_down", size=12), variant="surface", color_scheme="gray",
                        width="100%", type="button", id="info-campaigns", justify="start")
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Basic information"),
            rx.dialog.description("Saved with the flow when you Save Draft or Publish.", size="2",
                                  color=styles.MUTED, margin_bottom="14px"),
            rx.vstack(
                rx.vstack(_label("Name", "info-name", rx.text(H.info_name.length(), f"/{NAME_MAX}", size="1",
                                                               color=styles.MUTED)),
                          rx.input(value=H.info_name, on_change=H.set_info_name, max_length=NAME_MAX, id="info-name",
                                   width="100%"),
                          spacing="1", width="100%"),
                rx.vstack(_label("Description", "info-description",
                                 rx.text(H.info_description.length(), f"/{DESCRIPTION_MAX}", size="1",
                                         color=styles.MUTED)),
                          rx.text_area(value=H.info_description, on_change=H.set_info_description,
                                       max_length=DESCRIPTION_MAX, id="info-description", width="100%", rows="2"),
                          spacing="1", width="100%"),
                rx.vstack(_label("Sub-activities", "info-campaigns"),
                          campaign_picker(H, trigger, picker_id="info-campaigns"), spacing="1", width="100%"),
                schedule_field(value=H.info_schedule, on_change=H.set_info_schedule, every=H.info_every,
                               on_every_change=H.set_info_every, field_id="info-schedule",
                               disabled=H.schedule_why_not != ""),
                rx.cond(H.schedule_why_not != "", rx.text(H.schedule_why_not, size="1", color=styles.MUTED,
                                                          margin_top="-8px", id="info-schedule-why-not")),
                rx.hstack(
                    time_field("Start time", value=H.info_start, on_change=H.set_info_start, input_id="info-start",
                               time_zone=H.time_zone, utc=H.info_start_utc),
                    time_field("End time", value=H.info_end, on_change=H.set_info_end, input_id="info-end",
                               time_zone=H.time_zone, utc=H.info_end_utc),
                    spacing="3", width="100%",
                ),
                rx.text("No start time: the activity starts when it is published.", size="1", color=styles.MUTED,
                        margin_top="-8px"),
                rx.vstack(_label("Group", "info-group"),
                          rx.select.root(rx.select.trigger(width="100%", id="info-group"),
                                         rx.select.content(rx.foreach(H.group_options, _group_item),
                                                           position="popper"),
                                         value=H.info_group, on_change=H.set_info_group),
                          spacing="1", width="100%"),
                cap_exempt_field(H.info_cap_exempt, H.set_info_cap_exempt, "info-cap-exempt"),
                pacing_fields(H, "info"),
                goal_settings(),
                reentry_field(H, "info"),
                rx.cond(H.info_error != "", rx.callout(H.info_error, icon="circle_alert", color_scheme="red",
                                                       size="1", id="info-error", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("OK", on_click=H.submit_info, id="info-submit", disabled=H.info_name.strip() == ""),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="4",
            ),
            max_width="520px",
            id="info-dialog",
        ),
        open=H.info_open,
        on_open_change=H.set_info_open,
    )


def process_dialog() -> rx.Component:
    """Save as process: the published version (the one shown, else the live one) under a name."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Save as process"),
            rx.dialog.description(
                "Saves ", rx.text.strong(H.process_version_label), ", the published flow, for reuse: New from "
                "Template lists it beside the built-in templates. Secrets are not saved.",
                size="2", color=styles.MUTED, margin_bottom="14px"),
            rx.vstack(
                rx.vstack(_label("Process name", "process-name",
                                 rx.text(H.proc_name.length(), "/60", size="1", color=styles.MUTED)),
                          rx.input(value=H.proc_name, on_change=H.set_proc_name, id="process-name", width="100%"),
                          spacing="1", width="100%"),
                rx.vstack(_label("Description", "process-description",
                                 rx.text(H.proc_description.length(), "/90", size="1", color=styles.MUTED)),
                          rx.text_area(value=H.proc_description, on_change=H.set_proc_description,
                                       id="process-description", width="100%", rows="2"),
                          spacing="1", width="100%"),
                rx.cond(H.proc_error != "", rx.callout(H.proc_error, icon="circle_alert", color_scheme="red",
                                                       size="1", id="process-error", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=H.submit_process, id="process-submit", loading=H.proc_saving,
                              disabled=H.proc_name.strip() == ""),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="4",
            ),
            max_width="480px",
            id="process-dialog",
        ),
        open=H.proc_open,
        on_open_change=H.set_proc_open,
    )


def hint_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(T.hint_title),
            rx.dialog.description(
                rx.cond(T.hint_action == "View rules", "The audience filtering rules this template recommends.",
                        "The message this template recommends; copy it into your component."),
                size="2", color=styles.MUTED, margin_bottom="12px"),
            rx.box(rx.text(T.hint_detail, size="2", id="hint-detail"), padding="12px 14px", border_radius="8px",
                   background="var(--gray-a3)", font_family="var(--code-font-family)", white_space="pre-wrap"),
            rx.hstack(
                rx.button(rx.icon("copy", size=14), "Copy", variant="soft", on_click=T.copy_hint, id="hint-copy"),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                justify="end", spacing="3", margin_top="16px",
            ),
            max_width="480px",
            id="hint-dialog",
        ),
        open=T.hint_open,
        on_open_change=T.set_hint_open,
    )


# ------------------------------------------------------------------------------------------------ floating


def _problem(p: rx.Var[Problem]) -> rx.Component:
    return rx.el.button(
        rx.icon("circle_alert", size=14, color="var(--red-10)", flex="none", margin_top="2px"),
        rx.text(p.message, size="1", text_align="left"),
        on_click=S.show_problem(p.node_id),
        class_name="problem-item",
        custom_attrs={"data-node": p.node_id},
        type="button",
    )


def problems_window() -> rx.Component:
    return rx.cond(
        S.problems_open,
        rx.vstack(
            rx.hstack(
                rx.icon("octagon_alert", size=16, color="var(--red-10)"),
                rx.text(rx.cond(S.problems.length() > 0, "Fix these before publishing", "No problems left"),
                        weight="bold", size="2"),
                rx.badge(S.problems.length(), color_scheme=rx.cond(S.problems.length() > 0, "red", "green"),
                         size="1", variant="solid", radius="full"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                               on_click=S.close_problems, id="problems-close"),
                align="center", width="100%", spacing="2",
            ),
            rx.cond(S.problems.length() > 0,
                    rx.scroll_area(rx.vstack(rx.foreach(S.problems, _problem), spacing="1", width="100%"),
                                   type="auto", scrollbars="vertical", max_height="300px"),
                    rx.text("Every component is configured and every link ends. Publish again.", size="1",
                            color=styles.MUTED)),
            spacing="2",
            class_name="canvas-window problems-window",
            id="canvas-problems",
        ),
    )


def _key_item(k: rx.Var[KeyItem]) -> rx.Component:
    return rx.el.button(
        rx.icon(rx.cond(k.configured, "circle_check", "circle_dashed"), size=15, flex="none", margin_top="1px",
                color=rx.cond(k.configured, "var(--green-10)", "var(--amber-10)")),
        rx.vstack(rx.text(k.label, size="2", weight="medium"), rx.text(k.hint, size="1", color=styles.MUTED),
                  spacing="0", align="start"),
        on_click=S.show_problem(k.node_id),
        class_name="key-item",
        custom_attrs={"data-node": k.node_id},
        type="button",
    )


def template_window() -> rx.Component:
    return rx.cond(
        T.template_visible,
        rx.vstack(
            rx.hstack(
                rx.icon("lightbulb", size=16, color="var(--amber-10)"),
                rx.vstack(rx.text("Template details", weight="bold", size="2"),
                          rx.text(T.template_name, size="1", color=styles.MUTED), spacing="0"),
                rx.spacer(),
                rx.icon_button(rx.icon(rx.cond(T.template_open, "chevron_down", "chevron_up"), size=15), size="1",
                               variant="ghost", color_scheme="gray", on_click=T.toggle_template,
                               id="template-toggle", title=rx.cond(T.template_open, "Fold", "Expand")),
                align="center", width="100%", spacing="2",
            ),
            rx.cond(
                T.template_open,
                rx.vstack(
                    rx.text("Key components to configure — click one to see its hint on the canvas.", size="1",
                            color=styles.MUTED),
                    rx.vstack(rx.foreach(T.key_items, _key_item), spacing="1", width="100%"),
                    rx.hstack(rx.spacer(),
                              rx.button("Don't show again", size="1", variant="ghost", color_scheme="gray",
                                        on_click=S.hide_template, id="template-hide"),
                              width="100%"),
                    spacing="2", width="100%",
                ),
            ),
            spacing="2",
            class_name="canvas-window template-window",
            id="template-details",
        ),
    )
