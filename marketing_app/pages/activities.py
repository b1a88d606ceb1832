"""/ : the Automated Marketing page — status bar, group tree, the activity list with its filters, row and batch
actions, the dialogs and the Manage Versions / Execution Records drawers."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.create import NewActivityState
from marketing_app.templates import template
from marketing_app.views.activity_table import activity_table, column_css
from marketing_app.views.dialogs import confirm_dialog, move_dialog
from marketing_app.views.drawers import records_drawer, versions_drawer
from marketing_app.views.group_tree import add_group_dialog, delete_group_dialog, group_panel, rename_group_dialog
from marketing_app.views.list_footer import list_footer
from marketing_app.views.new_activity import new_activity_dialog
from marketing_app.views.schedule_dialogs import modify_dialog, resume_dialog
from marketing_app.views.status_bar import status_bar
from marketing_app.views.toolbar import toolbar


def _new_button() -> rx.Component:
    button = rx.button(rx.icon("plus", size=16), "New activity", size="2", on_click=NewActivityState.open_dialog,
                       disabled=ActivitiesState.write_refusal != "", id="new-activity", class_name="guarded")
    return rx.cond(
        ActivitiesState.write_refusal != "",
        rx.tooltip(rx.el.span(button, class_name="tip-wrap"), content=ActivitiesState.write_refusal),
        button,
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.heading("Automated Marketing", size="6", id="page-title"),
                rx.cond(ActivitiesState.write_refusal != "",
                        rx.badge(rx.icon("eye", size=12), "Read-only", size="2", variant="soft", color_scheme="gray",
                                 id="read-only-badge")),
                align="center",
                spacing="3",
            ),
            rx.text("Every activity you can see, with its status; manage, copy, stop and start them here.",
                    size="2", color=styles.MUTED),
            spacing="1",
        ),
        rx.spacer(),
        _new_button(),
        align="end",
        width="100%",
    )


@template(route="/", title="Automated Marketing", on_load=ActivitiesState.load)
def activities() -> rx.Component:
    return rx.vstack(
        rx.el.style(column_css()),
        _header(),
        status_bar(),
        rx.hstack(
            group_panel(),
            rx.box(toolbar(), activity_table(), list_footer(), flex="1", min_width="0", style=styles.panel_style,
                   id="activity-panel"),
            spacing="4",
            align="start",
            width="100%",
        ),
        confirm_dialog(),
        move_dialog(),
        new_activity_dialog(),
        modify_dialog(),
        resume_dialog(),
        add_group_dialog(),
        rename_group_dialog(),
        delete_group_dialog(),
        versions_drawer(),
        records_drawer(),
        spacing="5",
        width="100%",
    )
