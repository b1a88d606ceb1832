"""The goal's section of the Execution Records drawer (issue 16): conversions, rate, holdout and uplift per
version and per round, the uplift chart, and the newest round's branches. Included by one line in
views/drawers.py; loaded when the drawer's body mounts."""

import reflex as rx

from marketing_app.states.drawers import RecordsState
from marketing_app.states.goal_results import GoalRecordsState
from marketing_app.views.analysis_goal import branches_table, numbers_table, uplift_chart


def records_goal_section() -> rx.Component:
    g = GoalRecordsState
    return rx.box(
        rx.cond(
            g.goal != "",
            rx.vstack(
                rx.hstack(rx.icon("target", size=16), rx.text("Goal: ", rx.text.strong(g.goal), size="2"),
                          rx.spacer(),
                          rx.icon_button(rx.icon("refresh_cw", size=14), variant="ghost", size="1",
                                         on_click=g.load(RecordsState.activity_id), id="records-goal-refresh"),
                          align="center", width="100%"),
                rx.text("Per version", size="1", weight="bold"),
                numbers_table(g.versions, "records-goal-versions", first="Version"),
                uplift_chart(g, "records-goal-uplift"),
                rx.text("Per round", size="1", weight="bold"),
                numbers_table(g.rows, "records-goal-rounds"),
                rx.cond(g.branches.length() > 0, rx.vstack(
                    rx.text("Branches of the newest round", size="1", weight="bold"),
                    branches_table(g.branches, "records-goal-branches"), spacing="1", width="100%")),
                spacing="2", width="100%",
            ),
        ),
        on_mount=g.load(RecordsState.activity_id),
        id="records-goal", width="100%",
    )
