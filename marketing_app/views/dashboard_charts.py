"""One card per channel: headline numbers and the hourly stacked bars of its sends (rx.plotly)."""

import reflex as rx
from plotly.graph_objects import Figure

from marketing_app.states.dashboard import ChannelChart
from marketing_app.states.dashboard import DashboardState as S
from marketing_app.states.dashboard_charts import PLOT_CONFIG


def _stat(label: str, value: rx.Var[str], tone: str) -> rx.Component:
    return rx.hstack(
        rx.box(class_name=f"dot tone-{tone}"),
        rx.text(label, size="1", class_name="muted"),
        rx.text(value, size="1", weight="medium"),
        spacing="1",
        align="center",
    )


def _chart(chart: ChannelChart) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.text(chart.label, size="3", weight="bold", class_name="chart-title"),
                rx.text(chart.category, size="1", class_name="muted"),
                spacing="0",
            ),
            rx.spacer(),
            rx.vstack(
                rx.text(chart.sends, size="5", weight="bold", class_name="chart-sends"),
                rx.text("sends · 24 h", size="1", class_name="muted"),
                spacing="0",
                align="end",
            ),
            width="100%",
            align="start",
        ),
        rx.hstack(
            _stat("Success rate", chart.success_rate, "green"),
            _stat("Failed", chart.failed, "red"),
            _stat("No receipt yet", chart.pending, "amber"),
            spacing="4",
            wrap="wrap",
            class_name="chart-stats",
        ),
        rx.plotly.finance(data=chart.figure.to(Figure), config=PLOT_CONFIG, use_resize_handler=True,
                          style={"width": "100%", "height": "240px"}),
        class_name="chart-card",
        id="chart-" + chart.type,
        custom_attrs={"data-sends": chart.raw_sends, "data-label": chart.label},
    )


def channel_charts() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Sends per channel", size="4"),
            rx.text("last 24 hours, per hour (UTC)", size="2", class_name="muted"),
            align="baseline",
            spacing="2",
        ),
        rx.grid(
            rx.foreach(S.charts, _chart),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="3",
        width="100%",
        id="channel-charts",
    )
