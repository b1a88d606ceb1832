"""A stored row per Reach Task (issue 14: the list over 100,000 tasks filters, sorts and counts in SQL).

A flow task is one (round × component of a touch channel) of a visible activity; a normal task is one row per
`normaltask` (before its send it has no round). The rows are written by `engine/shared/reach_rows.py`: a session
listener creates them with the round (or the normal task) and follows the round's status, its activity's name
and visibility; the scheduler refreshes the numbers of the tasks still moving from the Redis counters
(`engine/runtime/reach_refresh.py`). The page's rows still show the live counters; these columns serve the
filters, sorts and totals."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now


class ReachTaskKind:
    FLOW = "flow"
    NORMAL = "normal"


class ReachTaskRow(SQLModel, table=True):
    __tablename__ = "reachtask"
    __table_args__ = (
        UniqueConstraint("record_id", "node_id"),
        UniqueConstraint("normal_task_id"),
        # one index per filter / sort of the list, each ending with the id (the tie-break)
        Index("ix_reachtask_started", "workspace_id", "channel", "started_at", "id"),
        Index("ix_reachtask_status", "workspace_id", "channel", "status", "started_at", "id"),
        Index("ix_reachtask_kind", "workspace_id", "channel", "kind", "started_at", "id"),
        Index("ix_reachtask_name", "workspace_id", "channel", "sort_name", "id"),
        Index("ix_reachtask_activity_name", "workspace_id", "channel", "sort_activity", "number", "id"),
        Index("ix_reachtask_audience", "workspace_id", "channel", "audience", "id"),
        Index("ix_reachtask_sent", "workspace_id", "channel", "sent", "id"),
        Index("ix_reachtask_success", "workspace_id", "channel", "success", "id"),
        Index("ix_reachtask_failed", "workspace_id", "channel", "failed", "id"),
        Index("ix_reachtask_status_rank", "workspace_id", "channel", "status_rank", "id"),
        # counts under a marketer's visibility from the index alone
        Index("ix_reachtask_visible", "workspace_id", "channel", "is_public", "owner_id", "status"),
        Index("ix_reachtask_activity", "activity_id", "channel", "started_at", "id"),
        Index("ix_reachtask_moving", "status", "record_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    channel: str = Field(max_length=20)  # the Reach Tasks channel key ("sms", "email", ...)
    kind: str = Field(default=ReachTaskKind.FLOW, max_length=10)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="CASCADE")  # flow tasks
    record_id: int | None = Field(default=None, foreign_key="executionrecord.id", ondelete="CASCADE")
    node_id: str = Field(default="", max_length=40)
    normal_task_id: int | None = Field(default=None, foreign_key="normaltask.id", ondelete="CASCADE")
    number: int = 0  # the round's number (the activity sort's second key)
    name: str = Field(max_length=200)
    name_suffix: str = Field(default="", max_length=80)  # " · round 3" (+ " · SMS 2"): name = activity + suffix
    activity_name: str = Field(default="", max_length=60)
    sort_name: str = Field(max_length=200)  # lower-cased: the name sort
    sort_activity: str = Field(default="", max_length=60)
    status: str = Field(max_length=20)  # reach_rows.STATUSES
    status_rank: int = 0  # the status sort's order
    status_reason: str = Field(default="", max_length=500)
    started_at: datetime = Field(default_factory=now)  # the send time (a normal task before it: its planned time)
    audience: int = 0
    sent: int = 0
    success: int = 0
    failed: int = 0
    pending: int = 0
    not_sent: int = 0
    is_public: bool = False
    owner_id: int = 0
    reviewable: bool = False  # its activity was submitted for review (reviewers see it)
    updated_at: datetime = Field(default_factory=now)
