"""A date-time input in one unambiguous shape: text "YYYY-MM-DD HH:MM" (24-hour) in the workspace's time zone,
its zone in the label and its UTC equivalent underneath.

Not the browser's datetime-local: Chromium shows it in the OS locale ("mm/dd/yyyy, --:-- --" with AM/PM for
en-US) whatever the page says. The text is read by engine.services.local_time on submit, whose message names
the field.
"""

import reflex as rx

from engine.services.local_time import EXAMPLE, FORMAT
from marketing_app import styles


def time_field(label: str, *, value: rx.Var[str], on_change: rx.EventHandler, input_id: str,
               time_zone: rx.Var[str], utc: rx.Var[str]) -> rx.Component:
    """`utc` is the state's hint for `value` ("= … UTC", or "")."""
    return rx.vstack(
        rx.text(label, " (", time_zone, ")", as_="label", html_for=input_id, size="2", weight="medium",
                id=f"{input_id}-label"),
        rx.input(value=value, on_change=on_change, id=input_id, width="100%", placeholder=FORMAT,
                 title=f"{FORMAT}, 24-hour, e.g. {EXAMPLE}", auto_complete="off"),  # no max_length: never cut
        rx.text(rx.cond(utc != "", utc, f"{FORMAT}, 24-hour"), size="1", color=styles.MUTED,
                id=f"{input_id}-utc"),
        spacing="1",
        flex="1",
        min_width="0",
    )
