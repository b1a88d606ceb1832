"""Issue 16: an activity's conversion goal, exit criteria and holdout group, and the conversions counted.

- `ActivityGoal`: one row per activity that set any of them (none = no row): the goal event and its window in
  days, whether reaching the goal takes a customer out of the flow, other exit events and attribute conditions,
  and the holdout share (percent of entrants held out of every touch). Read by the runtime once per walk and
  once per request of events (engine/shared/goal_rules.py).
- `GoalConversion`: one row per round and customer who did the goal event within the window after entering
  that round — counted as the events arrive (engine/runtime/goals.py), so no walk pays for it, and kept after
  the 7-day details (the totals per round and version stay). `held_out`: the customer was in the holdout.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from engine.clock import now


class ActivityGoal(SQLModel, table=True):
    activity_id: int = Field(foreign_key="activity.id", primary_key=True, ondelete="CASCADE")
    goal_event: str = Field(default="", max_length=60)  # "" = no conversion goal
    goal_days: int = 7
    exit_on_goal: bool = False
    exit_events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exit_attributes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    holdout_pct: int = 0


class GoalConversion(SQLModel, table=True):
    __table_args__ = ({"sqlite_with_rowid": False},)

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    customer_id: int = Field(primary_key=True)
    entered_at: datetime
    converted_at: datetime = Field(default_factory=now)
    held_out: bool = False
