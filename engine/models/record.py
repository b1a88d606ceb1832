from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum
from engine.status import RecordStatus


class RecordTrigger(StrEnum):
    PUBLISH = "publish"
    SCHEDULE = "schedule"  # start time reached or a periodic cycle
    RESTART = "restart"
    RERUN = "rerun"  # after a crowd-data failure; not counted against max runs
    TEST = "test"  # seed 004: a test run for the activity's testers
    REPUBLISH = "republish"  # a new version published while rounds ran: takes over from them (they drain)


CROWD_DATA_FAILURE = "crowd_data"


class ExecutionRecord(SQLModel, table=True):
    """One round of execution of one version of an activity."""

    __table_args__ = (UniqueConstraint("activity_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    version_id: int = Field(foreign_key="activityversion.id")
    number: int
    status: RecordStatus = Field(default=RecordStatus.IN_PROGRESS, sa_type=str_enum(RecordStatus))
    trigger: RecordTrigger = Field(sa_type=str_enum(RecordTrigger))
    started_at: datetime = Field(default_factory=now)
    ended_at: datetime | None = None
    failure_reason: str | None = None
    failure_kind: str | None = Field(default=None, max_length=20)  # "crowd_data" allows Re-run
    rerun_pending: bool = False  # Re-run asked while another round was in progress
    rerun_after: int | None = None  # ...the newest round (number) in progress then: the re-run waits for it
    dispatched_at: datetime | None = None  # when the scheduler handed the round to the workers (outbox)
    entry_closed: bool = False  # no more customers will enter (audience fully entered, or end time reached)
    rerun_of_id: int | None = Field(default=None, foreign_key="executionrecord.id")
    # the republish round that took over: this round is draining (entry closed; those inside finish on it)
    drained_by_id: int | None = Field(default=None, index=True)
    #: seed 004: a test round (the testers only, the current draft version): never the activity's status, its
    #: run count, its real rounds, the dashboard or the reach tasks
    is_test: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
