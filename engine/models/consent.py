"""Consent per customer and channel (issue 15): the current status, and every change as history.

No row means "unknown", which the engine treats as allowed. The primary key (customer_id, channel) answers the
walk's one look-up per batch (`customer_id IN (...)`, engine/runtime/consent_views.py)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from engine.clock import now


class ConsentStatus(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    UNKNOWN = "unknown"  # never stored as a current row: the row is removed (the default, allowed)


class ConsentSource(StrEnum):
    ADMIN = "admin"
    API = "api"
    UNSUBSCRIBE = "unsubscribe_link"
    IMPORT = "import"


class CustomerConsent(SQLModel, table=True):
    """A customer's current consent on one channel (a touch component type: text_sms, email, ...)."""

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    channel: str = Field(primary_key=True, max_length=40)
    status: str = Field(max_length=20)
    source: str = Field(max_length=20)
    changed_at: datetime = Field(default_factory=now)
    changed_by: int | None = None  # the admin's user id (None: the API, a link, an import)


class ConsentChange(SQLModel, table=True):
    """One change of a customer's consent, never updated (the profile's history)."""

    __table_args__ = (Index("ix_consentchange_customer", "customer_id", "changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    channel: str = Field(max_length=40)
    previous: str = Field(max_length=20)
    status: str = Field(max_length=20)
    source: str = Field(max_length=20)
    changed_at: datetime = Field(default_factory=now)
    changed_by: int | None = None
    note: str = Field(default="", max_length=200)  # e.g. the round whose unsubscribe link was followed
