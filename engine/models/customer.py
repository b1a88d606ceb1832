"""Customer data the engine works on: customers, tags, behaviour events, audiences."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from engine.clock import now
from engine.models.types import str_enum


class Customer(SQLModel, table=True):
    """A person the flows reach. `qaid` is the stable user ID shown as the QAID in the UI."""

    __table_args__ = (
        UniqueConstraint("workspace_id", "qaid"),
        Index("ix_customer_ws_created", "workspace_id", "created_at"),  # "joined in the last N days" rules
        # the Customers page's prefix search (engine/services/customers.py; migration 0013_customers): QAID
        # through the unique index above (and, on PostgreSQL, ix_customer_ws_qaid_prefix with text_pattern_ops),
        # name and email case-insensitively, phone as stored (normalised)
        Index("ix_customer_ws_name_lower", "workspace_id", text("lower(name)")),
        Index("ix_customer_ws_email_lower", "workspace_id", text("lower(email)")),
        Index("ix_customer_ws_phone", "workspace_id", "phone"),
        # issue 14: the one hidden customer row of a staff tester (engine/shared/staff.py), found by its user
        Index("ux_customer_staff_user", "staff_user_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    qaid: str = Field(max_length=64)
    name: str = Field(default="", max_length=80)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    wechat_openid: str | None = Field(default=None, max_length=64)
    push_token: str | None = Field(default=None, max_length=128)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=now)
    #: issue 14: set on a staff tester's own row (a copy of the user's contact that a test round reaches); such
    #: rows are kept out of every audience, estimate, customer list and search (`shared.customers.not_staff`).
    #: A user's id without a foreign key: SQLite adds a column in place only without one (`customer` is the
    #: largest table), and users are never deleted
    staff_user_id: int | None = None


class CustomerTag(SQLModel, table=True):
    """A tag value on a customer ("membership level" = "VIP"); one value per (customer, tag)."""

    # (tag, value) first: the ids of an exact value come from the index alone (customer_id last: covering).
    # Clustered on (customer_id, tag) on SQLite: a rule's probe of a customer's tag is one B-tree search
    # (migration 0017_tagclustered).
    __table_args__ = (Index("ix_customertag_tag_value", "tag", "value", "customer_id"), {"sqlite_with_rowid": False})

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(primary_key=True, max_length=60)
    value: str = Field(default="", max_length=120)
    updated_at: datetime = Field(default_factory=now)


class BehaviorEvent(SQLModel, table=True):
    """Something a customer did ("browse_h5", "purchase"), with properties, at a time."""

    __table_args__ = (
        Index("ix_behaviorevent_customer_name_time", "customer_id", "name", "occurred_at"),  # per-customer probes
        # "did E in the last D days" as a range of customer ids: a selective event can drive an audience rule
        Index("ix_behaviorevent_ws_name_time", "workspace_id", "name", "occurred_at", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    name: str = Field(max_length=60)
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    occurred_at: datetime = Field(default_factory=now)
    received_at: datetime = Field(default_factory=now)


class AudienceKind(StrEnum):
    STATIC = "static"  # a fixed list (CSV import, Generate Audience, Generate Crowd)
    RULE = "rule"  # attribute/tag conditions, materialised when a flow runs


class Audience(SQLModel, table=True):
    """A static list (members in AudienceMember) or a rule over attributes and tags (`rule`, see
    engine/services/audiences.py for the format), materialised when a flow runs."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=60)
    kind: AudienceKind = Field(default=AudienceKind.STATIC, sa_type=str_enum(AudienceKind))
    rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    source: str = Field(default="", max_length=120)  # "csv import", "Generate Audience in <activity>", ...
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime | None = None  # the rule's last edit (None: never edited since created)


class AudienceMember(SQLModel, table=True):
    audience_id: int = Field(foreign_key="audience.id", primary_key=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", primary_key=True, index=True, ondelete="CASCADE")
