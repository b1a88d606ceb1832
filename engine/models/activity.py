from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum
from engine.status import ActivityStatus, ApprovalStatus

NAME_MAX = 60
DESCRIPTION_MAX = 90


class Schedule(StrEnum):
    ONCE = "once"
    MINUTES = "minutes"  # every `schedule_every` minutes
    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"


class Activity(SQLModel, table=True):
    """A marketing activity (campaign flow). Its flows live in versions; `current_version_id` is the one
    being edited/shown, `live_version_id` the published one that runs."""

    __table_args__ = (
        Index("ix_activity_ws_status_created", "workspace_id", "status", "created_at", "id"),
        # the list's default order (updated first), with and without a status tab (migration 0003)
        Index("ix_activity_ws_updated", "workspace_id", "updated_at", "id"),
        Index("ix_activity_ws_status_updated", "workspace_id", "status", "updated_at", "id"),
        Index("ix_activity_ws_group", "workspace_id", "group_id"),
        Index("ix_activity_ws_owner", "workspace_id", "owner_id"),
        Index("ix_activity_ws_process", "workspace_id", "process_id"),  # the list's process filter (0013)
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    owner_id: int = Field(foreign_key="user.id")
    is_public: bool = False
    group_id: int | None = Field(default=None, foreign_key="activitygroup.id")
    status: ActivityStatus = Field(default=ActivityStatus.DRAFT, sa_type=str_enum(ActivityStatus))
    start_time: datetime | None = None  # None: starts on publish
    end_time: datetime | None = None  # None: runs until stopped / completed
    schedule: Schedule = Field(default=Schedule.ONCE, sa_type=str_enum(Schedule))
    schedule_every: int = 1
    max_runs: int | None = None  # None: unlimited
    runs_used: int = 0  # records counted against max_runs (re-runs are not)
    template_key: str | None = Field(default=None, max_length=60)
    process_id: int | None = None  # the reusable process it was created from (engine/models/process.py)
    process_name: str | None = Field(default=None, max_length=60)  # that process's name, kept after a delete
    current_version_id: int | None = None
    live_version_id: int | None = None
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    published_at: datetime | None = None
    next_run_at: datetime | None = None  # periodic schedules: when the scheduler starts the next cycle
    #: seed 004: the latest request to go live (None: never asked); its rows are in `approvalrequest`
    approval_status: ApprovalStatus | None = Field(default=None, sa_type=str_enum(ApprovalStatus, 20), nullable=True)
    #: the carrier of a Reach Tasks normal task (engine/services/normal_tasks.py): its one-component round sends
    #: the task; `permissions.visible_clause` keeps it out of every activity list
    hidden: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    #: issue 16: transactional — its touches are neither checked against the workspace's frequency caps nor
    #: counted towards them (engine/runtime/caps.py)
    cap_exempt: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    #: issue 16, re-entry rules (engine/services/reentry_rules.py): every_time (the default) / once / after_days
    reentry: str = Field(default="every_time", max_length=12, sa_column_kwargs={"server_default": "every_time"})
    reentry_days: int | None = None  # "again after N days": N
    one_live_run: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class ActivityCampaignLink(SQLModel, table=True):
    activity_id: int = Field(foreign_key="activity.id", primary_key=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="marketingcampaign.id", primary_key=True, index=True)
