"""What execution leaves behind: per-customer routes (kept 7 days) and per-component counters."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class CustomerStep(SQLModel, table=True):
    """One customer passing one *sending* component in one execution record: the send's result, which
    receipts, the 72-hour rule, the dashboard and Generate Crowd read and update row by row. The primary key
    makes a retried batch's insert a no-op (idempotent) and serves every (record, node) look-up; on SQLite the
    rows live in it (WITHOUT ROWID). The other components' passages are in `CustomerRoute` (one row per
    customer and walk, not per step: a third of the rows, a tenth of the write cost); engine/runtime/details.py
    reads both as one per-step relation."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    node_id: str = Field(primary_key=True, max_length=40)
    customer_id: int = Field(primary_key=True)
    branch: str = Field(default="", max_length=40)  # the branch taken ("" for End / parked)
    result: str = Field(default="passed", max_length=20)  # passed / success / failed / pending / parked
    reason: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=now)


class CustomerRoute(SQLModel, table=True):
    """The route of one customer through one walk of a round: every non-sending component passed, as a JSON
    object {node: branch} (or {node: [branch, result, reason]} when the component failed for them or parked
    them). `start_node` is where the walk began: the trigger, or the Wait Until it resumed after (a resumed
    walk's row names that wait again with its "out", superseding the earlier "parked"). One insert-or-ignore
    row per customer and walk instead of one per component is what makes a million customers cheap to record
    (engine/runtime/details.py writes and reads them; kept 7 days like the sends' rows)."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    customer_id: int = Field(primary_key=True)
    start_node: str = Field(primary_key=True, max_length=40)
    at: datetime = Field(default_factory=now)
    route: str = "{}"


class NodeCounter(SQLModel, table=True):
    """A counter of a component in a record (entered, passed, success, failed, sent, ...), persisted from Redis."""

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    node_id: str = Field(primary_key=True, max_length=40)
    metric: str = Field(primary_key=True, max_length=40)
    value: int = 0
