from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class Workspace(SQLModel, table=True):
    """A tenant: its users, groups and activities; the in-progress cap applies per workspace."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    in_progress_cap: int = 100
    # its API keys are rows of `apikey` (engine/models/api_key.py; migration 0014 moved the one key there)
    #: IANA zone the UI's date-time inputs are typed in (engine/services/local_time.py); stored times stay UTC
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    #: seed 004: activities go live only through an approved request (switched by an admin; migration 0013)
    approval_required: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=now)
