"""Secret values of component configs, stored apart from the flows that name them.

A flow's secret field holds only `{"$secret": "<id>"}` (engine/components/secret.py); the value lives here,
encrypted with Fernet (engine/secrets.py). A row is never updated: replacing a secret writes a new row and the
flow points at it, so a published version keeps signing with the secret it was published with, and versions of
one activity share a row until it is replaced (hence keyed by activity, node and field, not by version)."""

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from engine.clock import now


class SecretValue(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)  # random (uuid4 hex): what the flow's marker names
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    node_id: str = Field(max_length=64)
    field: str = Field(max_length=300)  # "secret", "headers.Authorization", "sasl_password"
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=now)
