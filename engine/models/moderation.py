"""A workspace's banned-word list for content moderation (engine/services/moderation.py edits it, admins only;
engine/flow/moderation.py applies it: a touch component whose text holds one cannot be published)."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now

WORD_MAX = 40


class BannedWord(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "word"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    word: str = Field(max_length=WORD_MAX)  # as the admin typed it (matched case-insensitively)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=now)
