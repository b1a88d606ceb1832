"""Frequency caps (issue 16): a workspace's rules "at most N messages of a channel (or of any channel) per customer
in D days". The runtime checks them before a touch sends (engine/runtime/caps.py); Settings → Frequency caps edits
them (engine/services/frequency_caps.py)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now

#: the rule's channel meaning "messages of every capped channel together"
ANY_CHANNEL = "any"


class FrequencyCap(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    #: a touch component type (text_sms, email, ...) or ANY_CHANNEL
    channel: str = Field(max_length=32)
    max_messages: int
    window_days: int
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
