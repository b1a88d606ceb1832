"""Receipts and behaviour events accepted while Redis was unavailable, kept until it answers again.

The API writes one row per request it could not hand to the runtime (Redis down or loading) and answers 202;
the scheduler applies the rows in id order once Redis answers and deletes each one applied. Applying a row
twice changes nothing (a receipt switches a pending send once; a customer enters a round once)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum


class InboxKind(StrEnum):
    RECEIPTS = "receipts"  # payload: [{message_id, status, reason}]
    EVENTS = "events"  # payload: [[customer id, name, properties, occurred at ISO]]


class InboxItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: InboxKind = Field(sa_type=str_enum(InboxKind))
    workspace_id: int | None = None  # events: the workspace whose rounds they may enter
    payload: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now)
