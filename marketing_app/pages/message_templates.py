"""/templates/messages: the workspace's message templates per channel (issue 15) — channel tabs, search, the
table (sortable headers, the SMS segment count and the moderation badge), the create / edit dialog with its live
preview for a customer picked by QAID, and Delete."""

import reflex as rx
from reflex.event import EventSpec

from marketing_app.components.confirm_dialog import confirm_dialog
from marketing_app.components.pager import pager
from marketing_app.states.message_templates import CHANNEL_TABS, ROUTE
from marketing_app.states.message_templates import MessageTemplatesState as S
from marketing_app.templates import template

STYLESHEET = "/message_templates/message_templates.css"

#: (key, header, width px, sort key or "")
COLUMNS: list[tuple[str, str, int, str]] = [
    ("name", "Name", 200, "name"), ("channel", "Channel", 130, "channel"), ("content", "Content", 0, ""),
    ("moderation", "Moderation", 130, ""), ("owner", "Creator", 120, ""), ("visibility", "Visibility", 90, ""),
    ("updated", "Updated (UTC)", 150, "updated_at"), ("actions", "", 120, ""),
]


def _tab(tab: rx.Var[list[str]]) -> rx.Component:
    active = S.channel == tab[0]
    return rx.button(
        tab[1], rx.badge(tab[2], size="1", variant="soft", radius="full",
                         color_scheme=rx.cond(active, "indigo", "gray")),
        size="2", variant=rx.cond(active, "soft", "ghost"), color_scheme=rx.cond(active, "indigo", "gray"),
        on_click=S.set_channel(tab[0]), class_name="channel-tab",
        custom_attrs={"data-channel": tab[0], "data-active": rx.cond(active, "true", "false")},
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.form(
            rx.input(rx.input.slot(rx.icon("search", size=15)), name="query", key=S.query, default_value=S.query,
                     placeholder="Search names and content, then Enter", size="2", width="340px",
                     id="template-search", auto_complete="off"),
            on_submit=S.submit_search, reset_on_submit=False, width="auto",
        ),
        rx.cond(S.query != "", rx.button("Clear", size="2", variant="ghost", color_scheme="gray",
                                         on_click=S.clear_search, id="clear-search")),
        rx.spacer(),
        rx.cond(
            S.can_create,
            rx.button(rx.icon("plus", size=14), "New template", size="2", on_click=S.open_new, id="new-template"),
            rx.tooltip(rx.el.span(rx.button(rx.icon("plus", size=14), "New template", size="2", disabled=True,
                                            id="new-template")), content=S.create_why_not),
        ),
        align="center", spacing="3", width="100%",
    )


def _th(key: str, label: str, width: int, sort: str) -> rx.Component:
    style = {"width": f"{width}px"} if width else {}
    if not sort:
        return rx.el.th(label, style=style)
    active = S.sort == sort
    arrow = rx.cond(active, rx.cond(S.descending, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
                    rx.icon("chevrons_up_down", size=12, class_name="sort-idle"))
    return rx.el.th(
        rx.el.button(label, arrow, on_click=S.sort_by(sort), class_name="sort-button",
                     custom_attrs={"data-sort": sort}),
        class_name=rx.cond(active, "sorted", ""), style=style,
    )


def moderation_badge(status: rx.Var[str], reasons: rx.Var[str]) -> rx.Component:
    badge = rx.badge(rx.cond(status == "passed", "Passed", "Fails moderation"),
                     color_scheme=rx.cond(status == "passed", "green", "red"), variant="soft", radius="full",
                     size="1", class_name="moderation-badge", custom_attrs={"data-status": status})
    return rx.cond(reasons != "", rx.tooltip(rx.el.span(badge, class_name="status-why"), content=reasons), badge)


def _action(label: str, refusal: rx.Var[str], on_click: EventSpec, css: str) -> rx.Component:
    return rx.cond(
        refusal != "",
        rx.tooltip(rx.el.span(rx.button(label, size="1", variant="ghost", disabled=True, class_name=css)),
                   content=refusal),
        rx.button(label, size="1", variant="ghost", on_click=on_click, class_name=css),
    )


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.link(r["name"], on_click=S.open_edit(r["id"]), class_name="template-name truncate",
                         weight="medium", title=r["name"], cursor="pointer")),
        rx.el.td(rx.badge(r["channel_label"], variant="outline", color_scheme="gray", size="1")),
        rx.el.td(
            rx.cond(r["subject"] != "", rx.text(r["subject"], size="2", weight="medium", class_name="truncate",
                                                title=r["subject"])),
            rx.text(r["content"], size="2", class_name="truncate", title=r["content"]),
            rx.cond(r["segments"] != "", rx.text(r["segments"], size="1", class_name="muted segments")),
        ),
        rx.el.td(moderation_badge(r["moderation"], r["reasons"])),
        rx.el.td(rx.text(r["owner"], size="2", class_name="truncate")),
        rx.el.td(rx.text(r["visibility"], size="2", class_name="muted")),
        rx.el.td(rx.text(r["updated"], size="2", class_name="muted")),
        rx.el.td(rx.hstack(
            rx.button(rx.cond(r["why_not"] != "", "View", "Edit"), size="1", variant="ghost",
                      on_click=S.open_edit(r["id"]), class_name="edit-template"),
            _action("Delete", r["why_not"], S.ask_delete(r["id"], r["name"]), "delete-template"),
            spacing="2", align="center")),
        class_name="template-row",
        custom_attrs={"data-id": r["id"], "data-name": r["name"], "data-channel": r["channel"]},
    )


def _table() -> rx.Component:
    return rx.box(
        rx.el.table(rx.el.thead(rx.el.tr(*[_th(*c) for c in COLUMNS])), rx.el.tbody(rx.foreach(S.rows, _row)),
                    class_name="template-table"),
        rx.cond(S.rows.length() == 0,
                rx.center(rx.text(rx.cond(S.query != "", "No template's name or content contains '" + S.query + "'.",
                                          "No template yet: New template, or Save as template from a message "
                                          "editor on the canvas."), size="2", class_name="muted"),
                          padding="40px", id="templates-empty")),
        pager(S),
        class_name="panel table-scroll", id="template-table",
    )


def _field(label: rx.Var[str] | str, control: rx.Component, count: rx.Var[str] | str = "") -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(label, size="2", weight="medium"), rx.spacer(),
                  rx.text(count, size="1", class_name="muted"), width="100%"),
        control, spacing="1", width="100%",
    )


def _debounced(control: rx.Component) -> rx.Component:
    return rx.debounce_input(control, debounce_timeout=300)


def _preview() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon("eye", size=14), rx.text("Preview", size="2", weight="medium"), spacing="2",
                  align="center"),
        _debounced(rx.input(value=S.f_qaid, on_change=S.set_f_qaid, placeholder="Customer QAID (optional)",
                            id="template-qaid", width="100%", size="2")),
        rx.cond(
            S.preview_error != "",
            rx.text(S.preview_error, size="2", color="var(--red-11)", id="preview-error"),
            rx.vstack(
                rx.text(S.preview_customer, size="1", class_name="muted", id="preview-customer"),
                rx.cond(S.preview_subject != "", rx.text(S.preview_subject, size="2", weight="bold",
                                                         id="preview-subject")),
                rx.box(rx.text(S.preview_content, size="2", id="preview-content", white_space="pre-wrap"),
                       class_name="preview-bubble", width="100%"),
                rx.cond(S.preview_segments != "", rx.text(S.preview_segments, size="1", class_name="muted",
                                                          id="preview-segments")),
                spacing="2", width="100%",
            ),
        ),
        spacing="2", width="100%", class_name="preview-pane",
    )


def _status() -> rx.Component:
    return rx.hstack(
        rx.cond(S.moderation != "", moderation_badge(S.moderation, S.reasons.join("; "))),
        rx.cond(S.segments != "", rx.text(S.segments, size="1", class_name="muted", id="template-segments")),
        rx.cond(S.moderation == "failed",
                rx.text(S.reasons.join("; "), size="1", color="var(--red-11)", id="template-reasons")),
        spacing="3", align="center", wrap="wrap", id="template-status",
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing != 0, rx.cond(S.read_only != "", "Template", "Edit template"),
                                    "New template")),
            rx.dialog.description(
                "Variables: {name}, {qaid}, {phone}, {email}, any attribute key such as {city}, and {short_link} "
                "(Text SMS). They are filled in per customer when the message is sent.", size="2"),
            rx.grid(
                rx.vstack(
                    _field("Channel", rx.select.root(
                        rx.select.trigger(id="template-channel", width="100%"),
                        rx.select.content(*[rx.select.item(label, value=key) for key, label in CHANNEL_TABS if key]),
                        value=S.f_channel, on_change=S.set_f_channel, disabled=S.editing != 0)),
                    _field("Name", rx.input(value=S.f_name, on_change=S.set_f_name, placeholder="Template name",
                                            id="template-name", width="100%", read_only=S.read_only != ""),
                           S.name_count),
                    rx.cond(S.subject_label != "", _field(S.subject_label, _debounced(rx.input(
                        value=S.f_subject, on_change=S.set_f_subject, id="template-subject", width="100%",
                        read_only=S.read_only != "")))),
                    _field(S.content_label, _debounced(rx.text_area(
                        value=S.f_content, on_change=S.set_f_content, rows="7", id="template-content",
                        width="100%", read_only=S.read_only != "",
                        placeholder="Write the message; {name} and other variables are filled in")),
                        S.content_count),
                    _status(),
                    rx.hstack(rx.switch(checked=S.f_public, on_change=S.set_f_public, id="template-public",
                                        disabled=S.read_only != ""),
                              rx.text("Shared with the workspace (off: only you and admins see it)", size="2"),
                              spacing="2", align="center"),
                    spacing="3", width="100%",
                ),
                _preview(),
                columns="2", spacing="5", width="100%", margin_top="12px",
            ),
            rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle_alert", color_scheme="red",
                                                   id="template-error", margin_top="12px")),
            rx.flex(
                rx.cond(S.read_only != "", rx.text(S.read_only, size="2", class_name="muted")),
                rx.spacer(),
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Save", on_click=S.save, id="template-save", disabled=S.read_only != ""),
                justify="end", align="center", spacing="2", width="100%", margin_top="16px",
            ),
            max_width="880px", id="template-dialog",
        ),
        open=S.form_open, on_open_change=S.set_form_open,
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title=["Delete template"],
        description=["Delete “", S.delete_name, "”? Components filled from it keep their content."],
        action="Delete", on_confirm=S.confirm_delete, action_id="template-delete-ok",
        open=S.delete_id != 0, on_cancel=S.cancel_delete)


@template(route=ROUTE, title="Message templates", on_load=S.load)
def message_templates() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.vstack(
            rx.heading("Message templates", size="6", id="page-title"),
            rx.text("Reusable content per channel: the message editors on the canvas pick a template or save "
                    "their content as one.", size="2", class_name="muted"),
            spacing="1",
        ),
        rx.hstack(rx.foreach(S.tabs, _tab), spacing="1", wrap="wrap", id="channel-tabs"),
        _toolbar(),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle_alert", color_scheme="red", id="templates-error",
                                          width="100%")),
        rx.cond(S.loaded, _table(), rx.center(rx.spinner(size="3"), class_name="panel empty-state",
                                              id="templates-loading")),
        _dialog(),
        _delete_dialog(),
        spacing="4", width="100%", id="message-templates",
    )
