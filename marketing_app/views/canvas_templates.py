"""New from Template: a card per strategy template (a live preview of its flow, its key components, Use), a card
per reusable process of the workspace (preview, source, Use; Rename / Delete for its creator and admins), and the
creation dialog."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.campaign_picker import campaign_picker
from marketing_app.components.flow_canvas import flow_canvas
from marketing_app.components.guarded import guarded_menu_item
from marketing_app.components.schedule_field import schedule_field
from marketing_app.components.time_field import time_field
from marketing_app.states.canvas_templates import (
    DESCRIPTION_MAX,
    NAME_MAX,
    ProcessCard,
    TemplateCard,
    TemplatesState,
)
from marketing_app.states.groups import GroupOption

S = TemplatesState


def _card(t: rx.Var[TemplateCard]) -> rx.Component:
    return rx.vstack(
        rx.box(
            flow_canvas(nodes=t.nodes, edges=t.edges, palette=[], selected="", rev=0, read_only=True, preview=True,
                        copy_mode="", can_undo=False, can_redo=False, dirty=False, focus={"id": "", "n": 0}),
            height="210px", width="100%", background="var(--gray-2)", border_bottom=styles.BORDER,
            class_name="template-preview",
        ),
        rx.vstack(
            rx.hstack(rx.text(t.name, weight="bold", size="3"), rx.spacer(),
                      rx.badge(t.components, " components", size="1", variant="soft", color_scheme="gray"),
                      width="100%", align="center"),
            rx.text(t.description, size="2", color=styles.MUTED),
            rx.text("Key components", size="1", weight="bold", color="var(--gray-11)", margin_top="4px"),
            rx.el.ul(rx.foreach(t.key_components, lambda k: rx.el.li(rx.text(k, size="1"))),
                     class_name="key-list"),
            rx.spacer(),
            rx.button(rx.icon("sparkles", size=14), "Use", width="100%", on_click=S.use(t.key),
                      class_name="use-template", custom_attrs={"data-template": t.key}),
            spacing="2", padding="14px 16px 16px", flex="1", width="100%",
        ),
        spacing="0",
        overflow="hidden",
        style=styles.panel_style,
        class_name="template-card",
        custom_attrs={"data-template": t.key},
    )


def _preview(nodes: rx.Var, edges: rx.Var) -> rx.Component:
    return rx.box(
        flow_canvas(nodes=nodes, edges=edges, palette=[], selected="", rev=0, read_only=True, preview=True,
                    copy_mode="", can_undo=False, can_redo=False, dirty=False, focus={"id": "", "n": 0}),
        height="210px", width="100%", background="var(--gray-2)", border_bottom=styles.BORDER,
        class_name="template-preview",
    )


def _process_menu(p: rx.Var[ProcessCard]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("ellipsis", size=14), size="1", variant="ghost", color_scheme="gray",
                                       class_name="process-more", aria_label="More")),
        rx.menu.content(
            guarded_menu_item("Rename", reason=p.manage_why_not, on_click=S.open_rename(p.id), action="rename",
                              icon="pencil"),
            guarded_menu_item("Delete", reason=p.manage_why_not, on_click=S.ask_delete(p.id), action="delete",
                              icon="trash_2", color="red"),
            class_name="process-menu",
        ),
    )


def _process_card(p: rx.Var[ProcessCard]) -> rx.Component:
    return rx.vstack(
        _preview(p.nodes, p.edges),
        rx.vstack(
            rx.hstack(rx.text(p.name, weight="bold", size="3", class_name="truncate", title=p.name), rx.spacer(),
                      rx.badge(p.components, " components", size="1", variant="soft", color_scheme="gray"),
                      _process_menu(p), width="100%", align="center"),
            rx.cond(p.description != "", rx.text(p.description, size="2", color=styles.MUTED)),
            rx.text("From ", p.source, " · by ", p.owner_name, " · ", p.visibility, size="1",
                    color=styles.MUTED, class_name="process-source"),
            rx.spacer(),
            rx.button(rx.icon("workflow", size=14), "Use", width="100%", on_click=S.use_process(p.id),
                      class_name="use-process", custom_attrs={"data-process": p.id}),
            spacing="2", padding="14px 16px 16px", flex="1", width="100%",
        ),
        spacing="0",
        overflow="hidden",
        style=styles.panel_style,
        class_name="process-card",
        custom_attrs={"data-process": p.id, "data-name": p.name},
    )


def _processes() -> rx.Component:
    return rx.vstack(
        rx.heading("Processes", size="4", id="processes-title"),
        rx.text("Published flows saved for reuse (Save as process on the canvas). A process saved from a private "
                "activity is seen only by its creator and admins.", size="2", color=styles.MUTED),
        rx.cond(
            S.processes.length() > 0,
            rx.grid(rx.foreach(S.processes, _process_card), columns="3", spacing="4", width="100%",
                    id="process-grid"),
            rx.text("No process yet: open a published activity and use Save as process.", size="2",
                    color=styles.MUTED, id="no-processes"),
        ),
        spacing="2",
        width="100%",
    )


def rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename process"),
            rx.vstack(
                rx.vstack(_label("Process name", "rename-name"),
                          rx.input(value=S.rename_name, on_change=S.set_rename_name, id="rename-name", width="100%"),
                          spacing="1", width="100%"),
                rx.vstack(_label("Description", "rename-description"),
                          rx.text_area(value=S.rename_description, on_change=S.set_rename_description,
                                       id="rename-description", width="100%", rows="2"),
                          spacing="1", width="100%"),
                rx.cond(S.rename_error != "", rx.callout(S.rename_error, icon="circle_alert", color_scheme="red",
                                                         size="1", id="rename-error", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=S.submit_rename, id="rename-submit",
                              disabled=S.rename_name.strip() == ""),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="4", margin_top="12px",
            ),
            max_width="460px",
            id="rename-dialog",
        ),
        open=S.rename_open,
        on_open_change=S.set_rename_open,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete process"),
            rx.alert_dialog.description(
                "Delete “", S.delete_name, "”? Activities created from it keep their flows and still name it.",
                size="2", color=styles.MUTED),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=S.confirm_delete, id="process-delete-ok"),
                justify="end", spacing="3", margin_top="20px",
            ),
            max_width="440px",
            id="process-delete-dialog",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )


def gallery() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.link(rx.hstack(rx.icon("arrow_left", size=14), rx.text("Automated Marketing", size="2"),
                                  align="center", spacing="1"),
                        href="/", color=styles.MUTED, underline="none", id="templates-back"),
                rx.heading("New from Template", size="6", id="templates-title"),
                rx.text("Strategy templates for common scenarios: a preset flow with the key components to "
                        "configure; below them, your workspace's processes. Pick one, name the activity, then "
                        "finish it on the canvas.", size="2",
                        color=styles.MUTED),
                spacing="1",
            ),
            width="100%",
        ),
        rx.grid(rx.foreach(S.templates, _card), columns="3", spacing="4", width="100%", id="template-grid"),
        _processes(),
        create_dialog(),
        rename_dialog(),
        delete_dialog(),
        spacing="5",
        width="100%",
    )


def _group_item(option: rx.Var[GroupOption]) -> rx.Component:
    return rx.select.item(rx.text(option.label, padding_left=(option.depth * 14).to_string() + "px"),
                          value=option.value)


def _label(text: str, html_for: str, counter: rx.Component | None = None) -> rx.Component:
    return rx.hstack(rx.text(text, as_="label", html_for=html_for, size="2", weight="medium"), rx.spacer(),
                     counter if counter is not None else rx.fragment(), width="100%", align="center")


def create_dialog() -> rx.Component:
    trigger = rx.button(rx.icon("tags", size=14),
                        rx.cond(S.campaign_summary != "", S.campaign_summary, "Choose sub-activities"),
                        rx.spacer(), rx.icon("chevron_down", size=12), variant="surface", color_scheme="gray",
                        width="100%", type="button", id="tpl-campaigns", justify="start")
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New from Template"),
            rx.dialog.description(rx.text(rx.cond(S.process_id != "", "Process: ", "Template: "),
                                          rx.text.strong(S.template_name)), size="2",
                                  color=styles.MUTED, margin_bottom="14px"),
            rx.vstack(
                rx.vstack(_label("Name", "tpl-name", rx.text(S.name.length(), f"/{NAME_MAX}", size="1",
                                                             color=styles.MUTED)),
                          rx.input(value=S.name, on_change=S.set_name, max_length=NAME_MAX, id="tpl-name",
                                   width="100%"), spacing="1", width="100%"),
                rx.vstack(_label("Description", "tpl-description",
                                 rx.text(S.description.length(), f"/{DESCRIPTION_MAX}", size="1", color=styles.MUTED)),
                          rx.text_area(value=S.description, on_change=S.set_description, max_length=DESCRIPTION_MAX,
                                       id="tpl-description", width="100%", rows="2"), spacing="1", width="100%"),
                rx.vstack(_label("Sub-activities", "tpl-campaigns"),
                          campaign_picker(S, trigger, picker_id="tpl-campaigns"), spacing="1", width="100%"),
                schedule_field(value=S.schedule, on_change=S.set_schedule, every=S.every,
                               on_every_change=S.set_every, field_id="tpl-schedule"),
                rx.hstack(
                    time_field("Start time", value=S.start, on_change=S.set_start, input_id="tpl-start",
                               time_zone=S.time_zone, utc=S.start_utc),
                    time_field("End time", value=S.end, on_change=S.set_end, input_id="tpl-end",
                               time_zone=S.time_zone, utc=S.end_utc),
                    spacing="3", width="100%",
                ),
                rx.text("The start must be later than now; no start time: the activity starts when it is "
                        "published.", size="1", color=styles.MUTED,
                        margin_top="-8px"),
                rx.vstack(_label("Group", "tpl-group"),
                          rx.select.root(rx.select.trigger(width="100%", id="tpl-group"),
                                         rx.select.content(rx.foreach(S.group_options, _group_item),
                                                           position="popper"),
                                         value=S.group, on_change=S.set_group),
                          spacing="1", width="100%"),
                rx.cond(S.error != "", rx.callout(S.error, icon="circle_alert", color_scheme="red", size="1",
                                                  id="tpl-error", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("OK", on_click=S.submit, loading=S.saving, disabled=S.name.strip() == "",
                              id="tpl-submit"),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="4",
            ),
            max_width="520px",
            id="template-dialog",
        ),
        open=S.open,
        on_open_change=S.set_open,
    )
