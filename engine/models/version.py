from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum
from engine.status import VersionState


class ActivityVersion(SQLModel, table=True):
    """A numbered flow of an activity. Immutable once published: an execution record points at the version it
    runs, so customers inside a flow finish on the definition they started with."""

    __table_args__ = (UniqueConstraint("activity_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    number: int
    state: VersionState = Field(default=VersionState.DRAFT, sa_type=str_enum(VersionState))
    flow: dict[str, Any] = Field(default_factory=lambda: {"nodes": [], "edges": []}, sa_column=Column(JSON))
    author_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    published_at: datetime | None = None
