"""The action analysis panel: a right-hand drawer over the canvas with the execution details of one component
in one round — header (component, round, live), result labels that filter the customer details, Last 5
Minutes / To Date, Plotly charts, the customer details with their QAIDs, and Generate Crowd for sends.

The canvas page mounts `analysis_panel()`; the component's execution data opens it (AnalysisState.open_panel).
"""

import reflex as rx
from plotly.graph_objects import Figure

from marketing_app import styles
from marketing_app.components.live_follow import live_follow
from marketing_app.states.analysis import PERIODS, AnalysisState, ChartView, Chip
from marketing_app.states.analysis_charts import PLOT_CONFIG
from marketing_app.views.analysis_ab import ab_auto_section
from marketing_app.views.analysis_crowd import crowd_controls, crowd_progress
from marketing_app.views.analysis_details import details_section
from marketing_app.views.analysis_goal import goal_section
from marketing_app.views.analysis_pacing import pacing_line
from marketing_app.views.version_counters import version_counters_section

S = AnalysisState
STYLESHEET = "/analysis/analysis_panel.css"
CATEGORY_ICONS = {"Marketing Touch": "send", "Data Push": "database", "Process Control": "git_fork",
                  "Judgment Condition": "split", "Trigger Mode": "play"}


def _header() -> rx.Component:
    return rx.hstack(
        rx.box(rx.match(S.category, *[(c, rx.icon(i, size=16)) for c, i in CATEGORY_ICONS.items()],
                        rx.icon("chart_column", size=16)), class_name="analysis-icon"),
        rx.vstack(
            rx.hstack(
                rx.text(S.title, weight="bold", size="4", id="analysis-title"),
                rx.text(S.node_id, size="1", color=styles.MUTED, class_name="mono"),
                rx.badge(S.category, size="1", variant="soft", color_scheme="gray", radius="full"),
                align="baseline", spacing="2",
            ),
            rx.hstack(
                rx.text(S.activity_name, size="1", color=styles.MUTED, class_name="truncate", min_width="0",
                        title=S.activity_name),
                rx.text("·", size="1", color=styles.MUTED),
                rx.text(S.round_label, size="1", weight="medium", id="analysis-round", white_space="nowrap"),
                rx.cond(S.live, rx.hstack(rx.box(class_name="analysis-live-dot"),
                                          rx.text(S.live_label, " · ", S.updated_at, size="1", color=styles.MUTED,
                                                  white_space="nowrap"),
                                          align="center", spacing="1", id="analysis-live", flex="none")),
                align="center", spacing="2", min_width="0", flex_wrap="wrap", row_gap="2px",  # never under the buttons
            ),
            spacing="1", min_width="0", flex="1",
        ),
        rx.cond(S.can_crowd, crowd_controls()),
        rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", size="2",
                       on_click=S.close_panel, id="analysis-close", aria_label="Close", title="Close"),
        align="center", width="100%", padding="14px 20px", border_bottom=styles.BORDER, spacing="3",
    )


def _chip(chip: Chip) -> rx.Component:
    return rx.el.button(
        rx.box(class_name="chip-dot", background=f"var(--{chip.color}-9)"),
        rx.text(chip.name, as_="span"),
        rx.text(chip.count, as_="span", class_name="chip-count"),
        on_click=S.select_label(chip.key),
        class_name=rx.cond(S.selected == chip.key, "analysis-chip selected", "analysis-chip"),
        title="Show only these customers below (click again for everyone)",
        custom_attrs={"data-key": chip.key, "data-count": chip.raw.to_string()},
        type="button",
    )


def _all_chip() -> rx.Component:
    return rx.el.button(
        rx.box(class_name="chip-dot", background="var(--gray-8)"),
        rx.text("All entered", as_="span"),
        rx.text(S.numbers["entered"], as_="span", class_name="chip-count"),
        on_click=S.select_label(""),
        class_name=rx.cond(S.selected == "", "analysis-chip selected", "analysis-chip"),
        custom_attrs={"data-key": "", "data-count": S.numbers["entered"]},
        type="button",
    )


def _labels() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(S.kind_name, class_name="analysis-section-title"),
            rx.spacer(),
            rx.segmented_control.root(
                *[rx.segmented_control.item(label, value=key) for key, label in PERIODS],
                value=S.period, on_change=S.set_period, size="1", id="analysis-period",
            ),
            align="center", width="100%",
        ),
        rx.box(_all_chip(), rx.foreach(S.chips, _chip), class_name="analysis-chips", id="analysis-chips"),
        spacing="3", width="100%",
    )


def _chart(chart: ChartView) -> rx.Component:
    return rx.box(
        rx.cond(
            chart.empty != "",
            rx.vstack(
                rx.text(chart.title, size="2", weight="bold", color="var(--gray-12)", align_self="start"),
                rx.box(rx.icon("chart_no_axes_column", size=28, color="var(--gray-8)"),
                       rx.text(chart.empty, size="2"), class_name="analysis-chart-empty"),
                spacing="0", width="100%",
            ),
            rx.plotly.finance(data=chart.figure.to(Figure), config=PLOT_CONFIG, use_resize_handler=True,
                      style={"width": "100%", "height": "250px"}),
        ),
        id=chart.id,
        class_name=rx.cond(chart.wide, "analysis-chart wide", "analysis-chart"),
        custom_attrs={"data-total": chart.total.to_string(), "data-empty": rx.cond(chart.empty != "", "true",
                                                                                   "false")},
    )


def _failure() -> rx.Component:
    return rx.cond(
        S.failure != "",
        rx.callout(rx.text("This component failed in this round: ", S.failure), icon="circle_alert",
                   color_scheme="red", size="1", id="analysis-failure", width="100%"),
    )


def _winner() -> rx.Component:
    return rx.cond(
        S.kind == "ab_test",
        rx.hstack(
            rx.icon("trophy", size=16, color=rx.cond(S.ab_winner != "", "#b07d00", "var(--gray-8)")),
            rx.text(rx.cond(S.ab_winner != "", "Winning group: ", "No winning group yet"), size="2"),
            rx.text(S.ab_winner, size="2", weight="bold"),
            rx.spacer(),
            rx.text("Targets achieved ", rx.el.b(S.numbers["targets"]), " of ",
                    rx.el.b(S.numbers["entered"]), " inflows", size="1", color=styles.MUTED),
            align="center", width="100%", padding="8px 12px", border_radius="8px", id="analysis-winner",
            background=rx.cond(S.ab_winner != "", "var(--amber-a2)", "var(--gray-a2)"),
            border=rx.cond(S.ab_winner != "", "1px solid var(--amber-a6)", "1px solid var(--gray-a4)"),
            custom_attrs={"data-winner": S.ab_winner},
        ),
    )


def _body() -> rx.Component:
    return rx.box(
        rx.vstack(
            _failure(),
            crowd_progress(),
            pacing_line(),
            _labels(),
            _winner(),
            ab_auto_section(),
            version_counters_section(),
            goal_section(),  # issue 16: conversions, branches, uplift
            rx.box(rx.foreach(S.chart_list, _chart), class_name="analysis-charts", id="analysis-charts", width="100%"),
            details_section(),
            spacing="4", width="100%", align="stretch",
        ),
        class_name="analysis-body",
    )


def _error() -> rx.Component:
    return rx.center(rx.callout(S.error, icon="circle_alert", color_scheme="red", id="analysis-error"),
                     padding="40px", width="100%")


def _loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding="80px", width="100%")


def analysis_panel() -> rx.Component:
    n = S.numbers
    return rx.fragment(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.cond(
            S.open,
            rx.box(
                _header(),
                rx.cond(S.error != "", _error(), rx.cond(S.loaded, _body(), _loading())),
                rx.cond(S.follow_key != "", live_follow(watch=S.follow_key, on_start=S.follow,
                                                        on_stop=S.unfollow, id="analysis-follow")),
                id="analysis-panel",
                custom_attrs={
                    "data-node": S.node_id, "data-kind": S.kind, "data-live": rx.cond(S.live, "true", "false"),
                    "data-entered": n["entered"],
                    "data-sent": n["sent"],
                    "data-success": n["success"],
                    "data-failed": n["failed"],
                    "data-pending": n["pending"],
                    "data-updated": S.updated_at,
                },
            ),
        ),
    )
