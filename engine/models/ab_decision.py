"""The automatic winner of an AB test in one round (issue 16): recorded once, when and why it was picked."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from engine.clock import now


class AbDecision(SQLModel, table=True):
    """One row per (round, AB Test component) whose winner was picked: the primary key makes the pick happen
    once (a second insert is ignored), and the row outlives Redis (engine/runtime/ab_winner.py)."""

    record_id: int = Field(foreign_key="executionrecord.id", primary_key=True, ondelete="CASCADE")
    node_id: str = Field(primary_key=True, max_length=40)
    winner: str = Field(max_length=40)  # the winning group's branch (group_1 ...)
    kind: str = Field(max_length=20)  # significant / window_ended
    reason: str = Field(max_length=300)  # "significant at 95 % (p=0.012) after 3,400 customers"
    level: str = Field(max_length=4)  # the significance level set (90 / 95 / 99)
    p_value: float | None = None
    customers: int = 0  # test customers counted at the pick
    stats: str = "[]"  # JSON [[branch, inflow, achieved], ...] at the pick
    decided_at: datetime = Field(default_factory=now)
