"""Reusable processes (seed 002, "Associated Process"): a published flow saved by a marketer under a name, listed
beside the built-in templates in New from Template. An activity made from one keeps `process_id` (and the name it
had, so the list still says where it came from after the process is renamed or deleted)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from engine.clock import now

PROCESS_NAME_MAX = 60
PROCESS_DESCRIPTION_MAX = 90


class Process(SQLModel, table=True):
    """A flow snapshot, without secrets. `is_public` follows the source activity when it was saved: a process
    made from a private activity is visible to its creator and admins only (engine/permissions.py)."""

    __table_args__ = (Index("ix_process_ws_name", "workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    name: str = Field(max_length=PROCESS_NAME_MAX)
    description: str = Field(default="", max_length=PROCESS_DESCRIPTION_MAX)
    flow: dict[str, Any] = Field(default_factory=lambda: {"nodes": [], "edges": []}, sa_column=Column(JSON))
    owner_id: int = Field(foreign_key="user.id")
    is_public: bool = False
    source_activity_id: int | None = None  # no foreign key: the process outlives its source activity
    source_activity_name: str = Field(default="", max_length=60)
    source_version_number: int = 1
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class VersionAudience(SQLModel, table=True):
    """The audiences a version's flow sends into it (its Target Audience triggers): the list's audience filter
    reads this instead of every flow's JSON. Written with the flow (engine/services/activities.py)."""

    version_id: int = Field(foreign_key="activityversion.id", primary_key=True, ondelete="CASCADE")
    audience_id: int = Field(primary_key=True, index=True)
