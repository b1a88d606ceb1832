"""Named API keys of a workspace for the HTTP API (engine/services/api_keys.py): only the SHA-256 of a key is
stored, with its first characters to recognise it by; a revoked key is kept (who made it, when it was last
used) but refused."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now


class ApiKey(SQLModel, table=True):
    __table_args__ = (Index("ux_apikey_key_hash", "key_hash", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=60)
    #: SHA-256 (hex) of the key: a database leak gives no access
    key_hash: str = Field(max_length=64)
    #: the key's first characters, shown to recognise it ("" for the key migration 0014 moved: never seen)
    prefix: str = Field(default="", max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    #: when the API last accepted it, updated at most once a minute per key (the hot path stays a read)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
