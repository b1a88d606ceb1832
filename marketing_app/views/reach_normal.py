"""The Reach Tasks page's normal tasks bar (every channel): New task, and the New task / Edit and Delete dialogs.
The tasks are rows of the task table (views/reach_table.py, type Normal) with their Edit / Delete. The form has
the message editors' template bar (views/template_bar.py): pick a template of the channel, save as template."""

import reflex as rx

from marketing_app.components.confirm_dialog import confirm_dialog
from marketing_app.states.reach import ReachState
from marketing_app.states.reach_normal import NormalTaskState as N
from marketing_app.states.reach_normal import NormalTaskTemplateState
from marketing_app.views.template_bar import template_bar


def _form() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(N.editing != 0, "Edit task", "New task")),
            rx.dialog.description(rx.cond(ReachState.channel_label.lower().startswith("e")
                                          | ReachState.channel_label.lower().startswith("a"), "An ", "A "),
                                  ReachState.channel_label, " send to an audience, moderated before it is sent.",
                                  size="2"),
            rx.vstack(
                rx.input(value=N.name, on_change=N.set_name, placeholder="Task name", id="normal-name", width="100%"),
                template_bar(NormalTaskTemplateState, channel=N.component, what="this task's content"),
                rx.cond(N.template_label != "",
                        rx.input(value=N.template_id, on_change=N.set_template_id, placeholder=N.template_label,
                                 id="normal-template", width="100%")),
                rx.cond(N.subject_label != "",
                        rx.input(value=N.subject, on_change=N.set_subject, placeholder=N.subject_label,
                                 id="normal-subject", width="100%")),
                rx.cond(N.content_label != "",
                        rx.text_area(value=N.content, on_change=N.set_content,
                                     placeholder=N.content_label + "; variables: {name}, {qaid}", rows="4",
                                     id="normal-content", width="100%")),
                rx.cond(N.segments != "", rx.text(N.segments, size="1", class_name="muted", id="normal-segments")),
                rx.cond(N.has_signature,
                        rx.input(value=N.signature, on_change=N.set_signature, placeholder="Signature (optional)",
                                 id="normal-signature", width="100%")),
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
    return confirm_dialog(
        title=["Delete task"], description=["Delete “", N.delete_name, "”? It will not be sent."],
        action="Delete", on_confirm=N.confirm_delete, action_id="normal-delete-ok",
        open=N.delete_id != 0, on_cancel=N.cancel_delete)


def normal_tasks_panel() -> rx.Component:
    return rx.hstack(
        rx.text("Normal tasks", weight="medium", size="3"),
        rx.text(ReachState.channel_label, " sends created here, moderated, then sent now or at their time; they are "
                "the table's rows of type Normal", size="1", class_name="muted"),
        rx.spacer(),
        rx.cond(ReachState.can_create,
                rx.button(rx.icon("plus", size=14), "New task", size="2", on_click=N.open_new, id="new-task")),
        _form(), _delete_dialog(),
        class_name="panel", padding="12px 16px", spacing="3", width="100%", align="center", id="normal-tasks",
    )
