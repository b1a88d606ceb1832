"""Seed 004: requests to go live, every decision on them, and the testers a test round reaches."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum
from engine.status import ApprovalStatus


class ApprovalRequest(SQLModel, table=True):
    """One request to let a version go live. `base_version_id` is what was live when it was asked (the
    reviewer's diff is against it; None for a first go-live)."""

    __table_args__ = (Index("ix_approvalrequest_ws_status", "workspace_id", "status", "requested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    version_id: int = Field(foreign_key="activityversion.id")
    base_version_id: int | None = Field(default=None, foreign_key="activityversion.id")
    requested_by: int = Field(foreign_key="user.id")
    requested_at: datetime = Field(default_factory=now)
    status: ApprovalStatus = Field(default=ApprovalStatus.UNDER_REVIEW, sa_type=str_enum(ApprovalStatus, 20))
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    #: the reviewer's comment (Rejected, Approved) or why it could not go live (Submission Failed)
    comment: str = Field(default="", max_length=500)


class ApprovalEventKind(StrEnum):
    REQUESTED = "requested"
    WITHDRAWN = "withdrawn"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUBMISSION_FAILED = "submission_failed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ApprovalEvent(SQLModel, table=True):
    """The history: who did what to a request, when, with which comment. Never updated nor deleted (until the
    activity is)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approvalrequest.id", index=True, ondelete="CASCADE")
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id")  # None: the system (Submission Failed)
    kind: ApprovalEventKind = Field(sa_type=str_enum(ApprovalEventKind, 20))
    comment: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=now)


class ActivityTester(SQLModel, table=True):
    """A customer (by QAID) a test round of the activity reaches; nobody else does."""

    __table_args__ = (UniqueConstraint("activity_id", "customer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    added_by: int = Field(foreign_key="user.id")
    added_at: datetime = Field(default_factory=now)
