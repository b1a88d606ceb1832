from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum


class Role(StrEnum):
    ADMIN = "admin"  # sees and manages every activity of the workspace
    MARKETER = "marketer"  # creates activities; edits their own; sees public ones
    MANAGER = "manager"  # reads what is visible to them; changes nothing
    REVIEWER = "reviewer"  # seed 004: reads like a manager (and what was submitted for review); approves/rejects


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=60)
    password_hash: str
    role: Role = Field(sa_type=str_enum(Role))
    created_at: datetime = Field(default_factory=now)
    #: a deactivated user cannot sign in and their sessions end (engine/services/users.py); rows stay, since
    #: activities, versions and decisions name their author
    active: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    last_login_at: datetime | None = None
    #: issue 14: a staff contact a test round can reach (Settings → Users; validated like a customer's)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)


class AuthSession(SQLModel, table=True):
    """A login: the browser keeps the random token in a cookie; we keep only its hash."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    expires_at: datetime


class UserPreference(SQLModel, table=True):
    """Per-user UI choices (e.g. the list's Show Columns selection), kept server-side."""

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(default="")
