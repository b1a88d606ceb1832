"""Re-entry rules of an activity (issue 16): may a customer enter it again, and when.

- `every_time` (the default, today's behaviour): a customer enters every round the trigger starts — each periodic
  cycle, each re-run, an event-triggered round once (a round is passed once per customer: its sends are
  exactly-once per (round, component, customer));
- `once`: one entry ever, across every round of the activity;
- `after_days`: again only N days (1–365) after their last entry;
- `one_live_run` (with any of them): not while they are still inside a run of this activity (entered and not
  yet left: End, the flow's last component, exit, stop).

The engine enforces them (engine/runtime/reentry.py); this module checks and stores the dialog's choice."""

from typing import Any

from engine.errors import Invalid
from engine.models import Activity

EVERY_TIME, ONCE, AFTER_DAYS = "every_time", "once", "after_days"
MODES: dict[str, str] = {EVERY_TIME: "Every time the trigger fires", ONCE: "Once ever",
                         AFTER_DAYS: "Again after N days"}
DEFAULT = EVERY_TIME
DAYS_MIN, DAYS_MAX = 1, 365


def validate(*, reentry: str, reentry_days: int | None) -> None:
    """The dialog's re-entry choice, or Invalid with the words the dialog shows."""
    if reentry not in MODES:
        raise Invalid(f"Unknown re-entry rule '{reentry}': choose " + ", ".join(MODES.values()) + ".")
    if reentry == AFTER_DAYS:
        if reentry_days is None:
            raise Invalid("Enter after how many days a customer may enter again (1 to 365).")
        if not DAYS_MIN <= reentry_days <= DAYS_MAX:
            raise Invalid(f"Re-entry after N days: N must be between {DAYS_MIN} and {DAYS_MAX} "
                          f"({reentry_days} entered).")


def apply(activity: Activity, *, reentry: str, reentry_days: int | None, one_live_run: bool) -> None:
    """Store a validated choice (N only with "again after N days")."""
    activity.reentry = reentry
    activity.reentry_days = reentry_days if reentry == AFTER_DAYS else None
    activity.one_live_run = one_live_run


def fields(activity: Activity) -> dict[str, Any]:
    """The activity's rule as ActivityInput's fields (the dialogs show it, a save keeps it)."""
    return {"reentry": activity.reentry or DEFAULT, "reentry_days": activity.reentry_days,
            "one_live_run": bool(activity.one_live_run)}


def describe(activity: Activity) -> str:
    """The rule in words (the canvas's details, the README's examples)."""
    text = MODES.get(activity.reentry, MODES[DEFAULT])
    if activity.reentry == AFTER_DAYS:
        text = f"Again after {activity.reentry_days} days"
    return text + (" · one live run at a time" if activity.one_live_run else "")
