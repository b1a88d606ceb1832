"""A workspace's stored channel settings (Settings → Channels): each row overrides one environment default of
engine/settings.py (`name` is the Settings attribute: `smtp_host`, `provider_api_key`, ...) for that workspace.

A secret setting (SMTP password, provider key, Kafka SASL password, webhook signing default) keeps only its
Fernet ciphertext (engine/secrets.py) and an empty `value`; the plain ones keep `value` as typed (text)."""

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.clock import now


class ChannelSetting(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="ux_channelsetting_ws_name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    name: str = Field(max_length=64)  # the engine/settings.py attribute it overrides
    value: str = Field(default="", max_length=2000)  # the plain value as text ("" for a secret)
    ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # secrets only
    updated_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=now)
