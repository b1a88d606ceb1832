from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now

MAX_GROUP_DEPTH = 3
GROUP_NAME_MAX = 30


class ActivityGroup(SQLModel, table=True):
    """A folder of activities; a tree at most three levels deep. "Ungrouped" is not a row: it is
    `Activity.group_id IS NULL`, so it always exists and can never be renamed or deleted."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="activitygroup.id", index=True)
    name: str = Field(max_length=GROUP_NAME_MAX)
    position: int = 0  # order among siblings
    created_at: datetime = Field(default_factory=now)
