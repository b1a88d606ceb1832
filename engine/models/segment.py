"""What the Segment-compatible events API (engine/services/segment.py) remembers between requests.

- `EventMessage`: the `messageId`s seen, per workspace, written in the same transaction as the events they
  carried, so a retry after a crash (before or after the commit) is stored exactly once. Purged after
  SEGMENT_DEDUPE_HOURS.
- `AnonymousLink`: an `anonymousId` identified as a customer (the latest `userId` sent with it wins).
- `AnonymousEvent`: events sent under an `anonymousId` nobody has identified yet; moved into `behaviorevent`
  (attributed to the customer) when it is identified, purged after ANONYMOUS_EVENT_DAYS otherwise.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from engine.clock import now

MESSAGE_ID_MAX = 100
ANONYMOUS_ID_MAX = 100


class EventMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_eventmessage_received_at", "received_at"),)

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True, ondelete="CASCADE")
    message_id: str = Field(primary_key=True, max_length=MESSAGE_ID_MAX)
    received_at: datetime = Field(default_factory=now)


class AnonymousLink(SQLModel, table=True):
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True, ondelete="CASCADE")
    anonymous_id: str = Field(primary_key=True, max_length=ANONYMOUS_ID_MAX)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    linked_at: datetime = Field(default_factory=now)


class AnonymousEvent(SQLModel, table=True):
    __table_args__ = (Index("ix_anonymousevent_ws_anon", "workspace_id", "anonymous_id"),
                      Index("ix_anonymousevent_received_at", "received_at"))

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    anonymous_id: str = Field(max_length=ANONYMOUS_ID_MAX)
    name: str = Field(max_length=60)
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    occurred_at: datetime = Field(default_factory=now)
    received_at: datetime = Field(default_factory=now)
