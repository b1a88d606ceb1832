"""The schedule of an activity: Once, or every N minutes / hours / days / months (engine.models.Schedule, what
the scheduler runs: engine/runtime/lifecycle.py). The interval box shows only for a periodic schedule."""

import reflex as rx

from engine.models import Schedule
from marketing_app import styles

#: (value, label, unit of the interval) in the order the select lists them
CHOICES: list[tuple[str, str, str]] = [
    (Schedule.ONCE.value, "Once", ""),
    (Schedule.MINUTES.value, "Every N minutes", "minutes"),
    (Schedule.HOURLY.value, "Hourly", "hours"),
    (Schedule.DAILY.value, "Daily", "days"),
    (Schedule.MONTHLY.value, "Monthly", "months"),
]
_UNITS = {value: unit for value, _, unit in CHOICES}


def schedule_field(*, value: rx.Var[str], on_change: rx.EventHandler, every: rx.Var[str],
                   on_every_change: rx.EventHandler, field_id: str,
                   disabled: rx.Var[bool] | bool = False) -> rx.Component:
    """`disabled`: the status machine does not let the schedule change here (the caller shows why)."""
    unit = rx.match(value, *[(v, u) for v, u in _UNITS.items() if u], "")
    return rx.vstack(
        rx.text("Schedule", as_="label", html_for=field_id, size="2", weight="medium"),
        rx.hstack(
            rx.select.root(
                rx.select.trigger(width="180px", id=field_id),
                rx.select.content(*[rx.select.item(label, value=v) for v, label, _ in CHOICES], position="popper"),
                value=value,
                on_change=on_change,
                disabled=disabled,
            ),
            rx.cond(
                value != Schedule.ONCE.value,
                rx.hstack(
                    rx.text("every", size="2", color=styles.MUTED),
                    rx.input(value=every, on_change=on_every_change, id=f"{field_id}-every", width="72px",
                             input_mode="numeric", aria_label="Interval", disabled=disabled),
                    rx.text(unit, size="2", color=styles.MUTED, id=f"{field_id}-unit"),
                    spacing="2",
                    align="center",
                ),
            ),
            spacing="3",
            align="center",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )
