"""/dashboard: what runs now — KPIs, one chart per channel, the In Progress activities — live while open."""

import reflex as rx

from marketing_app.components.live_follow import live_follow
from marketing_app.states.dashboard import ROUTE
from marketing_app.states.dashboard import DashboardState as S
from marketing_app.templates import template
from marketing_app.views.dashboard_charts import channel_charts
from marketing_app.views.dashboard_kpis import kpi_cards
from marketing_app.views.dashboard_table import activity_table

STYLESHEET = "/dashboard/dashboard.css"


def _header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading("Dashboard", size="6", id="page-title"),
            rx.text("The In Progress activities you can see and how their sends went in the last 24 hours.",
                    size="2", class_name="muted"),
            spacing="1",
        ),
        rx.spacer(),
        rx.cond(
            S.loaded,
            rx.hstack(rx.box(class_name="live-dot"), rx.text("Live · updated ", S.updated_at, size="1",
                                                           id="updated-at"),
                      align="center", spacing="2", class_name="live-badge"),
        ),
        align="end",
        width="100%",
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.box(rx.icon("radio-tower", size=28), class_name="empty-icon"),
            rx.heading("Nothing is running right now", size="4"),
            rx.text("An activity you can see appears here, with its sends, as soon as it is In Progress.",
                    size="2", class_name="muted", text_align="center"),
            rx.link(rx.button(rx.icon("workflow", size=14), "Go to Automated Marketing", variant="soft"),
                    href="/"),
            align="center",
            spacing="3",
        ),
        class_name="panel empty-state",
        id="dashboard-empty",
    )


def _loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), class_name="panel empty-state", id="dashboard-loading")


@template(route=ROUTE, title="Dashboard", on_load=S.load)
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        live_follow(watch="dashboard", on_start=S.follow, on_stop=S.unfollow, id="dashboard-follow"),
        _header(),
        rx.cond(
            S.loaded,
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(kpi_cards(), channel_charts(), activity_table(), spacing="6", width="100%"),
                rx.vstack(kpi_cards(), _empty(), spacing="6", width="100%"),
            ),
            _loading(),
        ),
        spacing="5",
        width="100%",
        id="dashboard",
    )
