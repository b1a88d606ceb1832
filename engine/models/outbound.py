"""The admin's outbound allow-list: hosts, addresses and networks webhooks and Kafka producers may reach
although they are private (engine/outbound.py explains the fence; OUTBOUND_ALLOW adds entries by env)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class OutboundAllow(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    entry: str = Field(max_length=300, unique=True)  # normalised: `host`, `host:port`, `10.0.0.0/8`, …
    note: str = Field(default="", max_length=200)  # why it is allowed ("the CRM in our data centre")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=now)
