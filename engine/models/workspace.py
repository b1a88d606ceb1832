from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class Workspace(SQLModel, table=True):
    """A tenant: its users, groups and activities; the in-progress cap applies per workspace."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    in_progress_cap: int = 100
    created_at: datetime = Field(default_factory=now)
