"""The canvas header: back arrow, the activity's name with the pencil, status, the version shown with a dropdown
of every version, Manage Versions, Save Draft and Publish."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.status_badge import approval_badge, status_badge
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_versions import CanvasVersionsState, VersionChoice
from marketing_app.states.drawers import VersionsState
from marketing_app.views.canvas_dry_run import dry_run_button
from marketing_app.views.execution_badge import execution_badge
from marketing_app.views.version_counters import version_counters_button

S = CanvasState  # the document: read-only, dirty, back / save / publish
H = CanvasHeaderState
V = CanvasVersionsState


def _version_item(v: rx.Var[VersionChoice]) -> rx.Component:
    return rx.menu.item(
        rx.hstack(
            rx.text(v.label, weight="bold", size="2", width="32px"),
            rx.text(v.note, size="1", color=styles.MUTED),
            rx.spacer(),
            rx.cond(v.current, rx.badge("current", size="1", variant="soft", color_scheme="indigo")),
            rx.cond(v.shown, rx.icon("check", size=14)),
            align="center",
            spacing="2",
            width="100%",
        ),
        on_click=V.open_version(v.id),
        class_name="version-choice",
        custom_attrs={"data-version": v.label},
    )


def _version_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(rx.icon("git_branch", size=13), rx.text(V.version, id="canvas-version"),
                      rx.icon("chevron_down", size=12), size="1", variant="soft", color_scheme="gray",
                      id="canvas-version-menu"),
        ),
        rx.menu.content(rx.foreach(V.versions, _version_item), min_width="340px", id="canvas-version-list"),
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("arrow_left", size=18), variant="ghost", color_scheme="gray", size="2",
                       on_click=S.back, id="canvas-back", title="Back to Automated Marketing"),
        rx.vstack(
            rx.hstack(
                rx.text(H.name, weight="bold", size="4", id="canvas-name", class_name="truncate", max_width="460px",
                        title=H.name),
                rx.cond(~S.read_only,
                        rx.icon_button(rx.icon("pencil", size=14), variant="ghost", color_scheme="gray", size="1",
                                       on_click=H.open_info, id="canvas-edit-info",
                                       title="Edit name, description, sub-activities, schedule, times and group")),
                status_badge(H.status, H.status_label),
                rx.cond(H.approval_required,  # issue 14: the approval status, its latest decision on hover
                        rx.link(approval_badge(H.approval, H.approval_label),
                                href="/activities/" + H.activity_id.to_string() + "/approval",
                                title=H.approval_hint, id="canvas-approval-status",
                                custom_attrs={"aria-label": "Approval details"})),
                _version_menu(),
                rx.cond(S.dirty | H.changed, rx.badge("Unsaved changes", size="1", variant="outline",
                                                      color_scheme="amber", id="canvas-dirty")),
                align="center",
                spacing="2",
            ),
            rx.hstack(
                rx.text(V.version_note, size="1", color=styles.MUTED, id="canvas-version-note", white_space="nowrap"),
                rx.text("·", size="1", color=styles.MUTED),
                rx.text("Start ", H.start_label, " · End ", H.end_label, " (", H.time_zone, ")", size="1",
                        color=styles.MUTED, id="canvas-times", white_space="nowrap"),
                rx.text("·", size="1", color=styles.MUTED),
                rx.text(H.schedule_label, rx.cond(H.next_run_label != "", " · next run " + H.next_run_label, ""),
                        size="1", color=styles.MUTED, id="canvas-schedule", white_space="nowrap"),
                rx.cond(H.origin_process != "",
                        rx.text("·", " From process ", H.origin_process, size="1", color=styles.MUTED,
                                id="canvas-origin-process")),
                execution_badge(),
                version_counters_button(),
                # the longest item of the line: cut with … (whole on hover) so the actions stay on screen
                rx.cond(V.editing_note != "", rx.text(V.editing_note, size="1", color="var(--amber-11)",
                                                      id="canvas-editing-note", class_name="truncate",
                                                      min_width="0", title=V.editing_note)),
                rx.cond(S.read_only, rx.badge(rx.icon("eye", size=11), "Read-only", size="1", variant="soft",
                                              color_scheme="gray", id="canvas-mode", title=S.read_only_reason)),
                align="center",
                spacing="2",
                min_width="0",
                max_width="100%",
                overflow="hidden",
            ),
            spacing="0",
            min_width="0",
            flex="1",
            overflow="hidden",
        ),
        rx.hstack(  # the actions never shrink: the title and its details give way to them
            rx.link(rx.button(rx.icon("clipboard-check", size=14), "Approval", variant="soft", color_scheme="gray",
                              size="2", id="canvas-approval"),
                    href="/activities/" + S.activity_id.to_string() + "/approval",
                    title="Testers, Test / Retest, Request to go live, Complete and the approval history"),
            rx.button(rx.icon("workflow", size=14), "Save as process", variant="soft", color_scheme="gray", size="2",
                      on_click=H.open_process, id="canvas-save-process", disabled=H.process_why_not != "",
                      title=rx.cond(H.process_why_not != "", H.process_why_not,
                                    "Save " + H.process_version_label + ", the published flow, as a reusable process")),
            rx.button(rx.icon("history", size=14), "Manage Versions", variant="soft", color_scheme="gray", size="2",
                      on_click=VersionsState.open_for(S.activity_id.to_string()), id="canvas-versions"),
            rx.cond(
                ~S.read_only,
                rx.hstack(
                    rx.button("Save Draft", variant="outline", size="2", on_click=S.save_draft, id="canvas-save",
                              disabled=S.save_refusal != "", title=S.save_refusal),
                    dry_run_button(),
                    rx.button(rx.icon("send", size=14), "Publish", size="2", on_click=S.publish, id="canvas-publish",
                              disabled=S.publish_refusal != "", title=S.publish_refusal),
                    spacing="2",
                ),
            ),
            align="center",
            spacing="3",
            flex="none",
        ),
        align="center",
        spacing="3",
        width="100%",
        height="60px",
        padding_x="14px",
        background=styles.PANEL_BG,
        border_bottom=styles.BORDER,
        flex="none",
    )
