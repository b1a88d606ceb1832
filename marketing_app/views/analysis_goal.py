"""The goal's section of the action analysis panel (issue 16): this round's conversions and rate (treated and
holdout), the uplift with its interval, and the component's branches with the customers routed there who
converted. Included by one line in views/analysis_panel.py; loaded when the panel body mounts."""

import reflex as rx
from plotly.graph_objects import Figure

from marketing_app import styles
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.analysis_charts import PLOT_CONFIG
from marketing_app.states.goal_results import GoalPanelState, GoalView

COLUMNS = [("shown", "Round"), ("entered", "Entered"), ("treated", "Converted · rate"),
           ("holdout", "Holdout converted · rate"), ("uplift", "Uplift [95 % CI]"), ("exited", "Exited")]


def numbers_table(rows: rx.Var[list[dict[str, str]]], table_id: str, first: str = "Round") -> rx.Component:
    return rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(first if key == "shown" else title) for key, title in COLUMNS])),
        rx.el.tbody(rx.foreach(rows, lambda r: rx.el.tr(
            *[rx.el.td(r[key]) for key, _ in COLUMNS],
            custom_attrs={"data-label": r["label"], "data-converted": r["converted"],
                          "data-significant": r["significant"]}))),
        class_name="drawer-table", id=table_id,
    )


def branches_table(rows: rx.Var[list[dict[str, str]]], table_id: str) -> rx.Component:
    return rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("Component", "Branch", "Routed", "Converted", "Rate")])),
        rx.el.tbody(rx.foreach(rows, lambda b: rx.el.tr(
            rx.el.td(b["node"]), rx.el.td(b["branch"]), rx.el.td(b["routed"]), rx.el.td(b["converted"]),
            rx.el.td(b["rate"]), custom_attrs={"data-branch": b["id"], "data-converted": b["converted"]}))),
        class_name="drawer-table", id=table_id,
    )


def uplift_chart(state: type[GoalView], chart_id: str) -> rx.Component:
    return rx.cond(state.has_uplift, rx.box(
        rx.plotly.finance(data=state.figure.to(Figure), config=PLOT_CONFIG, use_resize_handler=True,
                          style={"width": "100%", "height": "250px"}),
        id=chart_id, width="100%"))


def goal_section() -> rx.Component:
    g = GoalPanelState
    return rx.box(
        rx.cond(
            g.goal != "",
            rx.vstack(
                rx.hstack(rx.icon("target", size=16), rx.text("Goal: ", rx.text.strong(g.goal), size="2"),
                          rx.cond(g.holdout_pct > 0, rx.badge(g.holdout_pct.to_string() + " % holdout",
                                                              variant="soft")),
                          rx.spacer(),
                          rx.icon_button(rx.icon("refresh_cw", size=14), variant="ghost", size="1",
                                         on_click=g.load(AnalysisState.record_id, AnalysisState.node_id),
                                         id="analysis-goal-refresh"),
                          align="center", width="100%"),
                numbers_table(g.rows, "analysis-goal-rounds"),
                rx.cond(g.branches.length() > 0, branches_table(g.branches, "analysis-goal-branches")),
                uplift_chart(g, "analysis-goal-uplift"),
                spacing="2", width="100%",
            ),
            rx.cond(g.error != "", rx.text(g.error, size="1", color=styles.MUTED)),
        ),
        # re-read with each of the panel's snapshots (a live round: at most every 5 s; conversions announce
        # their round too): a new key remounts the fragment's span, whose mount loads
        rx.fragment(rx.el.span(on_mount=g.load(AnalysisState.record_id, AnalysisState.node_id), display="none"),
                    key=AnalysisState.updated_at),
        id="analysis-goal", width="100%",
    )
