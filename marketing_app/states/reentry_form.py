"""The re-entry rule's fields of an activity's basics (issue 16): the choice, its N days, one live run at a time.
A mixin of the New / Modify form (activity_form.py); the rule's checks are the engine's
(engine/services/reentry_rules.py), whose message the dialog shows."""

from typing import Any

import reflex as rx

from engine.errors import Invalid
from engine.services import reentry_rules


class ReentryFields(rx.State, mixin=True):
    reentry: str = reentry_rules.DEFAULT
    reentry_days: str = "7"  # the N of "again after N days", as typed
    one_live_run: bool = False

    @rx.event
    def set_reentry(self, value: str):
        self.reentry = value

    @rx.event
    def set_reentry_days(self, value: str):
        self.reentry_days = value

    @rx.event
    def set_one_live_run(self, value: bool):
        self.one_live_run = bool(value)

    def fill_reentry(self, reentry: str, days: int | None, one_live_run: bool) -> None:
        self.reentry, self.one_live_run = reentry or reentry_rules.DEFAULT, bool(one_live_run)
        self.reentry_days = str(days) if days else "7"

    def reentry_input(self) -> dict[str, Any]:
        """The fields as ActivityInput takes them; Invalid when N is not a whole number (the range is the
        service's check)."""
        days: int | None = None
        if self.reentry == reentry_rules.AFTER_DAYS:
            text = self.reentry_days.strip()
            if not text.isdigit():
                raise Invalid("Re-entry after N days: N must be a whole number of days between 1 and 365.")
            days = int(text)
        return {"reentry": self.reentry, "reentry_days": days, "one_live_run": self.one_live_run}
