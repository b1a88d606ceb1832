"""Message templates (issue 15, `/templates/messages`): reusable content of one touch channel — the text, and a
subject where the channel has one — that the touch components' editors pick from or save into
(engine/services/message_templates.py). Visibility as activities: public (the workspace) or private (the creator
and admins)."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from engine.clock import now

TEMPLATE_NAME_MAX = 60
TEMPLATE_SUBJECT_MAX = 200
TEMPLATE_CONTENT_MAX = 50_000  # the widest channel's (email body); each channel's own limit is checked too


class MessageTemplate(SQLModel, table=True):
    __table_args__ = (Index("ix_messagetemplate_ws_channel", "workspace_id", "channel", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    channel: str = Field(max_length=30)  # the touch component type it fills ("text_sms", "email", ...)
    name: str = Field(max_length=TEMPLATE_NAME_MAX)
    subject: str = Field(default="", max_length=TEMPLATE_SUBJECT_MAX)  # email subject, push / digital SMS title
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_id: int = Field(foreign_key="user.id")
    is_public: bool = True
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
