"""The database's identity: one row with a uuid written once, by migration 0006.

Redis state (batches, pending sets, counters, send results, queues) only means something for the database it
was written for; `engine/runtime/redis_state.py` binds Redis to this uuid so a new database never reads an
old database's counters under reused record ids."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class DatabaseIdentity(SQLModel, table=True):
    id: int = Field(default=1, primary_key=True)  # always 1: one row
    uuid: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=now)
