"""/ : the Automated Marketing list (status counts, one page of activities, paging).

Minimal on purpose: the group tree, row actions and drawers arrive with their own issue.
"""

import reflex as rx

from marketing_app import styles
from marketing_app.states.activities import ActivitiesState
from marketing_app.templates import template
from marketing_app.views.activity_table import activity_table
from marketing_app.views.pagination import pagination
from marketing_app.views.status_bar import status_bar


def _header() -> rx.Component:
    return rx.vstack(
        rx.heading("Activities", size="6", id="page-title"),
        rx.text("Every marketing activity you can see, newest changes first.", size="2", color=styles.MUTED),
        spacing="1",
    )


@template(route="/", title="Activities", on_load=ActivitiesState.load)
def activities() -> rx.Component:
    return rx.vstack(
        _header(),
        status_bar(),
        rx.box(activity_table(), pagination(), width="100%", overflow="hidden", style=styles.panel_style),
        spacing="5",
        width="100%",
    )
