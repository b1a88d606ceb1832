"""A normal task of the Reach Tasks page (seed 003): content, an audience and a send time, created on the page
rather than by a flow. Moderated by the scheduler (Moderating → Rejected with the reason, or To be sent); when
due it is sent as a one-component round (Target Audience → the channel's component → End) of a hidden carrier
activity, so sends, receipts, the 72-hour rule, the details and Generate Audience are the flows' own code."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum
from engine.status import NormalTaskStatus as NormalTaskStatus  # re-exported: the status lives with the machines


class NormalTask(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    channel: str = Field(max_length=20)  # the Reach Tasks channel key ("sms", "email", ...)
    name: str = Field(max_length=60)
    content: str = Field(max_length=500)
    signature: str = Field(default="", max_length=20)
    #: the channel's component config the carrier sends (issue 14: every channel; SMS keeps content + signature)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    audience_id: int = Field(foreign_key="audience.id")
    send_at: datetime | None = None  # None: as soon as it is moderated
    status: NormalTaskStatus = Field(default=NormalTaskStatus.MODERATING, sa_type=str_enum(NormalTaskStatus))
    reason: str | None = Field(default=None, max_length=300)  # why Rejected
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL")  # the carrier
    record_id: int | None = Field(default=None, foreign_key="executionrecord.id", ondelete="SET NULL")
