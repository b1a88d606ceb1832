"""`bench.throughput --window --goal`: issue 16's send window and conversion goal switched on for the benchmark
flow, so the throughput they keep (with `--cap`, bench/caps.py) can be set against the run without them.

Both are set so that nobody is held back: the window opens an hour before now and closes three hours after, in the
customers' own zone (bench/seed.py gives every customer Asia/Shanghai), so every touch's batch is split by zone and
checked minute by minute but nobody waits; the goal is `order_paid` within 7 days with "exit on goal" on, so every
walk reads the guard and checks its batch against the exited set, and nobody has converted. What is measured is
the checks themselves."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.services.pacing import PacingInput
from engine.shared.goal_rules import GoalSettings

CUSTOMER_ZONE = "Asia/Shanghai"  # bench/seed.py `customers`


def window_now(now: datetime | None = None) -> PacingInput:
    """A send window open from an hour ago to three hours ahead in the customers' zone (outside it: wait)."""
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(CUSTOMER_ZONE))
    start, end = local - timedelta(hours=1), local + timedelta(hours=3)
    return PacingInput(window_start=f"{start:%H:%M}", window_end=f"{end:%H:%M}", outside="wait")


def goal() -> GoalSettings:
    return GoalSettings(goal_event="order_paid", goal_days=7, exit_on_goal=True)


def settings(*, window: bool, goal_on: bool) -> dict[str, Any]:
    """The ActivityInput fields for the chosen rules (bench/seed.py `publish`)."""
    out: dict[str, Any] = {}
    if window:
        out["pacing"] = window_now()
    if goal_on:
        out["goal"] = goal()
    return out


def describe(activity_id: int) -> str:
    """What the published activity really holds (read back from the database): proof the rules were on."""
    from engine.db import read_session
    from engine.models.goal import ActivityGoal
    from engine.models.pacing import ActivityPacing

    with read_session() as session:
        pacing = session.get(ActivityPacing, activity_id)
        row = session.get(ActivityGoal, activity_id)
    parts = []
    if pacing is not None and pacing.window_start:
        parts.append(f"send window {pacing.window_start}–{pacing.window_end} {CUSTOMER_ZONE} ({pacing.outside})")
    if row is not None and row.goal_event:
        parts.append(f"goal {row.goal_event} within {row.goal_days} days, exit on goal {row.exit_on_goal}")
    return "; ".join(parts) or "no send window, no goal"
