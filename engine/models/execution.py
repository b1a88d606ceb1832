"""What execution leaves behind: per-customer routes (kept 7 days) and per-component counters."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now


class CustomerStep(SQLModel, table=True):
    """One customer passing one component in one execution record: the per-customer details and route.
    The primary key makes a retried batch's insert a no-op (idempotent)."""

    __table_args__ = (Index("ix_customerstep_record_node_at", "record_id", "node_id", "at"),)

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    node_id: str = Field(primary_key=True, max_length=40)
    customer_id: int = Field(primary_key=True, index=True)
    branch: str = Field(default="", max_length=40)  # the branch taken ("" for End / parked)
    result: str = Field(default="passed", max_length=20)  # passed / success / failed / pending / parked
    reason: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=now)


class NodeCounter(SQLModel, table=True):
    """A counter of a component in a record (entered, passed, success, failed, sent, ...), persisted from Redis."""

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    node_id: str = Field(primary_key=True, max_length=40)
    metric: str = Field(primary_key=True, max_length=40)
    value: int = 0
