"""The Re-entry field of an activity's basics (issue 16): may a customer enter again — every time the trigger
fires (the default), once ever, or again after N days — and, ticked, at most one live run per customer at a time.
The rules themselves: engine/services/reentry_rules.py."""

import reflex as rx

from engine.services import reentry_rules
from marketing_app import styles
from marketing_app.states.reentry_form import ReentryFields

HINTS = {
    reentry_rules.EVERY_TIME: "A customer enters each round the trigger starts: every cycle, every re-run, each "
                              "behaviour-event round (once per round).",
    reentry_rules.ONCE: "A customer enters this activity once, whatever round or event comes later.",
    reentry_rules.AFTER_DAYS: "A customer enters again only when their last entry is at least N days old (a "
                              "behaviour-event activity: in a later round; each periodic cycle opens one).",
}


def reentry_field(form: type[ReentryFields], prefix: str) -> rx.Component:
    """The field bound to a form with ReentryFields; element ids start with `prefix`."""
    return rx.vstack(
        rx.text("Re-entry", as_="label", html_for=f"{prefix}-reentry", size="2", weight="medium"),
        rx.hstack(
            rx.select.root(
                rx.select.trigger(width="240px", id=f"{prefix}-reentry"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in reentry_rules.MODES.items()], position="popper"),
                value=form.reentry, on_change=form.set_reentry,
            ),
            rx.cond(
                form.reentry == reentry_rules.AFTER_DAYS,
                rx.hstack(
                    rx.text("N =", size="2", color=styles.MUTED),
                    rx.input(value=form.reentry_days, on_change=form.set_reentry_days, id=f"{prefix}-reentry-days",
                             width="72px", input_mode="numeric", aria_label="Days before re-entry"),
                    rx.text("days", size="2", color=styles.MUTED),
                    spacing="2", align="center",
                ),
            ),
            spacing="3", align="center", width="100%",
        ),
        rx.text(rx.match(form.reentry, *HINTS.items(), ""), size="1", color=styles.MUTED, id=f"{prefix}-reentry-hint"),
        rx.checkbox("At most one live run per customer at a time", checked=form.one_live_run,
                    on_change=form.set_one_live_run, id=f"{prefix}-one-live", size="2"),
        spacing="1", width="100%",
    )
