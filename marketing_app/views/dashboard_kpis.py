"""The Dashboard's KPI cards: In Progress activities, sends, success rate and failures of the last 24 hours."""

import reflex as rx

from marketing_app.states.dashboard import DashboardState as S


def _card(key: str, label: str, icon: str, value: rx.Var[str], hint: rx.Var[str] | str, tone: str,
          raw: rx.Var[str] | None = None) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(label, size="2", weight="medium", class_name="kpi-label"),
            rx.spacer(),
            rx.box(rx.icon(icon, size=16), class_name=f"kpi-icon tone-{tone}"),
            align="center",
            width="100%",
        ),
        rx.text(value, class_name="kpi-value", id=f"kpi-{key}-value"),
        rx.text(hint, size="1", class_name="kpi-hint", id=f"kpi-{key}-hint"),
        class_name="kpi-card",
        id=f"kpi-{key}",
        custom_attrs={"data-value": raw if raw is not None else value},
    )


def kpi_cards() -> rx.Component:
    return rx.grid(
        _card("in-progress", "In Progress activities", "activity", S.in_progress, "running now, that you can see",
              "indigo"),
        _card("sends", "Sends · last 24 h", "send", S.sends, "actually sent to a channel", "gray", S.raw_sends),
        _card("success-rate", "Success rate", "circle-check", S.success_rate,
              "of sends · " + S.pending + " still await a receipt", "green"),
        _card("failures", "Failures · last 24 h", "circle-x", S.failures,
              "failed sends · " + S.not_sent + " not sent: no address", "red"),
        columns=rx.breakpoints(initial="2", lg="4"),
        spacing="4",
        width="100%",
    )
