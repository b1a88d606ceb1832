"""The list's dialogs: confirmation of destructive actions (Pause, Stop, Delete, and their batch forms) and Move."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.groups import GroupOption, GroupTreeState

S = ActivitiesState


def confirm_dialog() -> rx.Component:
    deleting = S.confirm_kind.contains("delete")
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(S.confirm_title),
            rx.alert_dialog.description(S.confirm_body, size="2", color=styles.MUTED),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", id="confirm-cancel")),
                rx.button(rx.cond(deleting, "Delete", rx.cond(S.confirm_kind == "pause", "Pause", "Stop")),
                          color_scheme=rx.cond(deleting, "red", "amber"),
                          on_click=S.confirm, id="confirm-ok"),
                justify="end",
                spacing="3",
                margin_top="20px",
            ),
            max_width="460px",
            id="confirm-dialog",
        ),
        open=S.confirm_open,
        on_open_change=S.set_confirm_open,
    )


def group_option(option: rx.Var[GroupOption]) -> rx.Component:
    return rx.select.item(
        rx.hstack(
            rx.cond(option.depth == 0, rx.icon("inbox", size=13), rx.icon("folder", size=13)),
            rx.text(option.label),
            align="center",
            spacing="2",
            padding_left=(option.depth * 14).to_string() + "px",
            class_name="group-option",
        ),
        value=option.value,
    )


def group_select(value: rx.Var[str], on_change, select_id: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Choose a group", width="100%", id=select_id),
        rx.select.content(rx.foreach(GroupTreeState.options, group_option), position="popper"),
        value=value,
        on_change=on_change,
    )


def move_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.move_title),
            rx.dialog.description("Choose the group the activities go to.", size="2", color=styles.MUTED,
                                  margin_bottom="12px"),
            group_select(S.move_target, S.set_move_target, "move-target"),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Save", on_click=S.submit_move, id="move-save"),
                justify="end",
                spacing="3",
                margin_top="20px",
            ),
            max_width="440px",
            id="move-dialog",
        ),
        open=S.move_open,
        on_open_change=S.set_move_open,
    )
