"""Generate Crowd: one request to save the customers with one result at a component of a round as an audience.

The operation record list next to the Generate Crowd button reads these rows (who, when, which result, how
many, done or failed). A row is written when the request is accepted (running), and finished by the worker
that builds the audience: done with the audience and its size, or failed with the reason (then no audience
was saved: the audience and its members are written in the same transaction that marks the row done). A running row
without `dispatched_at` is an outbox entry: the scheduler hands it to the workers (engine/services/crowds.py)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum


class CrowdStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CrowdOperation(SQLModel, table=True):
    __table_args__ = (Index("ix_crowdoperation_record_node", "record_id", "node_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    record_id: int = Field(foreign_key="executionrecord.id", ondelete="CASCADE")
    node_id: str = Field(max_length=40)
    result: str = Field(max_length=20)  # success / failed / pending: the customers' result at the component
    name: str = Field(max_length=60)  # the audience's name
    status: CrowdStatus = Field(default=CrowdStatus.RUNNING, sa_type=str_enum(CrowdStatus))
    requested: int = 0  # customers with that result when the request was accepted
    count: int = 0  # members of the saved audience (done)
    audience_id: int | None = Field(default=None, foreign_key="audience.id", ondelete="SET NULL")
    reason: str | None = Field(default=None, max_length=300)  # why it failed
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None
    dispatched_at: datetime | None = None  # when its message went to the workers (outbox: the scheduler sends it)
