"""The Reach Tasks page's normal tasks panel (SMS): the list with Edit / Delete (greyed out with the reason
when the 5-minute rule refuses), View Details once sent, and the New task / Edit dialog."""

import reflex as rx
from reflex.event import EventSpec

from marketing_app.states.reach_normal import NormalTaskState as N
from marketing_app.views.reach_table import STATUS_COLORS

COLORS = {**STATUS_COLORS, "moderating": "amber", "rejected": "red"}


def _action(label: str, refusal: rx.Var[str], on_click: EventSpec, css: str) -> rx.Component:
    return rx.cond(
        refusal != "",
        rx.tooltip(rx.el.span(rx.button(label, size="1", variant="ghost", disabled=True, class_name=css)),
                   content=refusal),
        rx.button(label, size="1", variant="ghost", on_click=on_click, class_name=css),
    )


def _status(r: rx.Var[dict[str, str]]) -> rx.Component:
    badge = rx.badge(r["status_label"], color_scheme=rx.match(r["status"], *COLORS.items(), "gray"), variant="soft",
                     radius="full", size="1")
    return rx.cond(r["reason"] != "", rx.tooltip(rx.el.span(badge, class_name="status-why"), content=r["reason"]),
                   badge)


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(r["name"], weight="medium", size="2", class_name="truncate", title=r["name"])),
        rx.el.td(rx.text(r["content"], size="2", class_name="truncate", title=r["content"]),
                 rx.text(r["segments"], size="1", class_name="muted")),
        rx.el.td(rx.text(r["audience"], size="2", class_name="truncate")),
        rx.el.td(rx.text(r["send_at"], size="2")),
        rx.el.td(r["sent"], " · ", r["success"], " · ", r["failed"], class_name="num"),
        rx.el.td(_status(r), custom_attrs={"data-col": "status"}),
        rx.el.td(rx.hstack(
            rx.cond(r["task_id"] != "",
                    rx.link("View Details", href="/reach/" + N.channel + "/" + r["task_id"], size="1",
                            class_name="details-link")),
            _action("Edit", r["edit_refusal"], N.open_edit(r["id"]), "edit-task"),
            _action("Delete", r["delete_refusal"], N.ask_delete(r["id"], r["name"]), "delete-task"),
            spacing="2", align="center")),
        class_name="normal-row", custom_attrs={"data-id": r["id"], "data-name": r["name"], "data-status": r["status"]},
    )


def _form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(N.editing != 0, "Edit task", "New task")),
            rx.dialog.description("An SMS to an audience, moderated before it is sent.", size="2"),
            rx.vstack(
                rx.input(value=N.name, on_change=N.set_name, placeholder="Task name", id="normal-name", width="100%"),
                rx.text_area(value=N.content, on_change=N.set_content, placeholder="SMS content; variables: {name}, "
                             "{qaid}", rows="4", id="normal-content", width="100%"),
                rx.text(N.segments, size="1", class_name="muted", id="normal-segments"),
                rx.input(value=N.signature, on_change=N.set_signature, placeholder="Signature (optional)",
                         id="normal-signature", width="100%"),
                rx.select.root(
                    rx.select.trigger(placeholder="Audience", id="normal-audience", width="100%"),
                    rx.select.content(rx.foreach(N.audiences, lambda a: rx.select.item(a[1], value=a[0]))),
                    value=N.audience, on_change=N.set_audience,
                ),
                rx.radio_group.root(
                    rx.hstack(rx.radio_group.item("Send now", value="now"),
                              rx.radio_group.item("At a time", value="later"), spacing="4"),
                    value=N.timing, on_change=N.set_timing, id="normal-timing",
                ),
                rx.cond(N.timing == "later", rx.vstack(
                    rx.input(value=N.send_at, on_change=N.set_send_at, placeholder="YYYY-MM-DD HH:MM",
                             id="normal-send-at", width="100%"),
                    rx.text("In ", N.time_zone, " ", N.utc, size="1", class_name="muted"), spacing="1",
                    width="100%")),
                rx.cond(N.form_error != "", rx.text(N.form_error, size="2", color="var(--red-11)",
                                                    id="normal-error")),
                rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Save", on_click=N.save, id="normal-save"), justify="end", spacing="2",
                        width="100%"),
                spacing="3", margin_top="12px",
            ),
            max_width="520px",
        ),
        open=N.form_open, on_open_change=N.set_form_open,
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete task"),
            rx.alert_dialog.description("Delete “", N.delete_name, "”? It will not be sent."),
            rx.flex(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                     on_click=N.cancel_delete)),
                    rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=N.confirm_delete,
                                                     id="normal-delete-ok")),
                    justify="end", spacing="2", margin_top="12px"),
        ),
        open=N.delete_id != 0,
    )


def normal_tasks_panel() -> rx.Component:
    return rx.cond(
        N.channel == "sms",
        rx.vstack(
            rx.hstack(
                rx.text("Normal tasks", weight="medium", size="3"),
                rx.text("SMS created here, moderated, then sent now or at their time", size="1", class_name="muted"),
                rx.spacer(),
                rx.icon_button(rx.icon("refresh_cw", size=14), size="2", variant="ghost", on_click=N.refresh,
                               aria_label="Refresh normal tasks"),
                rx.button(rx.icon("plus", size=14), "New task", size="2", on_click=N.open_new, id="new-task"),
                width="100%", align="center", spacing="3",
            ),
            rx.cond(
                N.rows.length() > 0,
                rx.el.table(
                    rx.el.thead(rx.el.tr(
                        rx.el.th("Task", style={"width": "180px"}), rx.el.th("Content"),
                        rx.el.th("Audience", style={"width": "140px"}),
                        rx.el.th("Send time (", N.time_zone, ")", style={"width": "170px"}),
                        rx.el.th("Sent · ok · failed", class_name="num", style={"width": "140px"}),
                        rx.el.th("Status", style={"width": "120px"}), rx.el.th("", style={"width": "210px"}))),
                    rx.el.tbody(rx.foreach(N.rows, _row)),
                    class_name="task-table normal-table",
                ),
                rx.text("No normal task yet: New task sends an SMS to an audience without a flow.", size="2",
                        class_name="muted", id="normal-empty"),
            ),
            _form(), _delete_dialog(),
            class_name="panel", padding="16px", spacing="3", width="100%", id="normal-tasks",
        ),
    )
