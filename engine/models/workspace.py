from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now


class Workspace(SQLModel, table=True):
    """A tenant: its users, groups and activities; the in-progress cap applies per workspace."""

    __table_args__ = (Index("ux_workspace_api_key_hash", "api_key_hash", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    in_progress_cap: int = 100
    #: SHA-256 (hex) of the workspace's API key for the HTTP API (engine/api/keys.py); the key itself is
    #: shown once when generated and never stored. None: no key, the API refuses every request.
    api_key_hash: str | None = Field(default=None, max_length=64)
    #: IANA zone the UI's date-time inputs are typed in (engine/services/local_time.py); stored times stay UTC
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    #: seed 004: activities go live only through an approved request (switched by an admin; migration 0013)
    approval_required: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=now)
