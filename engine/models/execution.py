"""What execution leaves behind: per-customer routes (kept 7 days) and per-component counters."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class CustomerStep(SQLModel, table=True):
    """One customer passing one component in one execution record: the per-customer details and route.
    The primary key makes a retried batch's insert a no-op (idempotent) and serves every (record, node)
    look-up; on SQLite the rows live in it (WITHOUT ROWID). The runtime writes these rows in bulk
    (engine/runtime/step.py `insert_steps`): a million customers through a flow are millions of rows."""

    __table_args__ = ({"sqlite_with_rowid": False},)

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
