"""Issue 16: an activity's conversion goal, exit criteria and holdout group — the settings, their checks, and
the two pure rules the runtime and the read side share (who is held out, which customers an attribute
condition takes out).

One row of `activitygoal` per activity (none = nothing set). The services check and save it with the
activity's basic information (engine/services/activities.py); the runtime reads it once per walk and once per
request of events. Event names follow the flow editor's rule (`behavior_event.check_event_name`), attribute
conditions are the judgments' conditions (`components.conditions`), so a setting no flow could match is
refused with the same words.
"""

import hashlib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, col, select

from engine.components.behavior_event import check_event_name
from engine.components.conditions import MAX_CONDITIONS, PropertyCondition, lookup
from engine.errors import Invalid
from engine.models import ActivityGoal, ExecutionRecord

MAX_GOAL_DAYS = 7  # a customer's entry is known for the 7 days their round's details are kept
MAX_EXIT_EVENTS = 10
MAX_HOLDOUT_PCT = 50


class GoalSettings(BaseModel):
    """What the basic-information dialog sets (all off by default)."""

    goal_event: str = ""  # "" = no conversion goal
    goal_days: int = 7
    exit_on_goal: bool = False
    exit_events: list[str] = Field(default_factory=list)
    exit_attributes: list[dict[str, Any]] = Field(default_factory=list)  # PropertyCondition dicts: property = attribute
    holdout_pct: int = 0

    @property
    def empty(self) -> bool:
        return not (self.goal_event or self.exit_events or self.exit_attributes or self.holdout_pct)

    def exit_names(self) -> set[str]:
        """The event names that take a customer out of the flow."""
        return set(self.exit_events) | ({self.goal_event} if self.exit_on_goal and self.goal_event else set())

    def attribute_conditions(self) -> list[PropertyCondition]:
        return [PropertyCondition.model_validate(c) for c in self.exit_attributes]


def _event(value: str, label: str) -> str:
    try:
        name = check_event_name(value)
    except ValueError as err:
        raise Invalid(f"{label}: {err} — “{value.strip()}” is not one.") from None
    if len(name) > 60:
        raise Invalid(f"{label}: an event name is at most 60 characters.")
    return name


def check_settings(settings: GoalSettings) -> GoalSettings:
    """The settings as stored (names trimmed), or Invalid with the dialog's words."""
    goal = settings.goal_event.strip()
    if goal:
        goal = _event(goal, "Goal event")
        if not 1 <= settings.goal_days <= MAX_GOAL_DAYS:
            raise Invalid(f"The goal window is 1 to {MAX_GOAL_DAYS} days (a customer's entry is kept "
                          f"{MAX_GOAL_DAYS} days).")
    elif settings.exit_on_goal:
        raise Invalid("Set a goal event to exit customers when they reach it.")
    names = [_event(n, "Exit event") for n in settings.exit_events if n.strip()]
    if len(names) > MAX_EXIT_EVENTS:
        raise Invalid(f"At most {MAX_EXIT_EVENTS} exit events.")
    if len(settings.exit_attributes) > MAX_CONDITIONS:
        raise Invalid(f"At most {MAX_CONDITIONS} exit conditions on attributes.")
    conditions: list[dict[str, Any]] = []
    for raw in settings.exit_attributes:
        try:
            conditions.append(PropertyCondition.model_validate(raw).model_dump(mode="json"))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise Invalid(f"Exit condition on attributes: {where + ': ' if where else ''}"
                          f"{str(first.get('msg', 'invalid')).removeprefix('Value error, ')}.") from None
    if not 0 <= settings.holdout_pct <= MAX_HOLDOUT_PCT:
        raise Invalid(f"The holdout group is 0 to {MAX_HOLDOUT_PCT} % of the entrants.")
    return GoalSettings(goal_event=goal, goal_days=settings.goal_days if goal else 7,
                        exit_on_goal=settings.exit_on_goal and bool(goal), exit_events=list(dict.fromkeys(names)),
                        exit_attributes=conditions, holdout_pct=settings.holdout_pct)


def _settings(row: ActivityGoal | None) -> GoalSettings:
    if row is None:
        return GoalSettings()
    return GoalSettings(goal_event=row.goal_event, goal_days=row.goal_days, exit_on_goal=row.exit_on_goal,
                        exit_events=list(row.exit_events or []), exit_attributes=list(row.exit_attributes or []),
                        holdout_pct=row.holdout_pct)


def read_settings(session: Session, activity_id: int) -> GoalSettings:
    return _settings(session.get(ActivityGoal, activity_id))


def save_settings(session: Session, activity_id: int, settings: GoalSettings) -> None:
    """Store checked settings (`check_settings`); all off deletes the row."""
    row = session.get(ActivityGoal, activity_id)
    if settings.empty:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ActivityGoal(activity_id=activity_id)
    row.goal_event, row.goal_days, row.exit_on_goal = settings.goal_event, settings.goal_days, settings.exit_on_goal
    row.exit_events, row.exit_attributes = list(settings.exit_events), list(settings.exit_attributes)
    row.holdout_pct = settings.holdout_pct
    session.add(row)


def settings_of_record(session: Session, record_id: int) -> tuple[int, GoalSettings] | None:
    """(activity id, settings) of a round's activity, or None when it set nothing: one primary-key read."""
    row = session.exec(select(ActivityGoal).join(
        ExecutionRecord, col(ExecutionRecord.activity_id) == col(ActivityGoal.activity_id))
        .where(col(ExecutionRecord.id) == record_id)).first()
    return None if row is None else (row.activity_id, _settings(row))


# ---------------------------------------------------------------- the pure rules


def holdout_bucket(activity_id: int, customer_id: int) -> int:
    """0..9999, fixed per (activity, customer): the same customer is held out in every round of the activity."""
    digest = hashlib.blake2b(f"{activity_id}:{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000


def held_out(activity_id: int, pct: int, customer_ids: Iterable[int]) -> set[int]:
    """The customers of `customer_ids` in the activity's holdout group (`pct` % of all customers)."""
    if pct <= 0:
        return set()
    limit = pct * 100
    return {cid for cid in customer_ids if holdout_bucket(activity_id, cid) < limit}


def attribute_exits(conditions: list[PropertyCondition], attributes: dict[int, dict[str, Any]]) -> set[int]:
    """The customers whose attributes meet every condition (all ANDed, as a judgment's group)."""
    if not conditions:
        return set()
    testers = [(c.property, c.tester()) for c in conditions]
    return {cid for cid, attrs in attributes.items() if all(test(lookup(attrs, key)) for key, test in testers)}
