"""Pacing settings (issue 16): an activity's send window (quiet hours) and send-rate limit, and a workspace's
per-channel send-rate limits (Settings → Channels). Tables of their own so the parent tables stay untouched.

The runtime (engine/runtime/pacing.py) reads them when a walk reaches a touch; they apply to running rounds
within its cache's few seconds."""

from sqlmodel import Field, SQLModel

#: outside the window: the touch waits until the window opens, or is skipped (result "skipped")
WAIT, SKIP = "wait", "skip"


class ActivityPacing(SQLModel, table=True):
    """One row per activity that has a send window or a rate limit (no row: neither)."""

    #: no foreign key: deleting activities deletes these rows explicitly (engine/services/pacing.py `forget`)
    activity_id: int = Field(primary_key=True)
    window_start: str = Field(default="", max_length=5)  # "HH:MM" local to each customer; "" = no window
    window_end: str = Field(default="", max_length=5)  # "HH:MM"; earlier than start = the window spans midnight
    outside: str = Field(default=WAIT, max_length=8)  # wait | skip
    max_per_minute: int | None = None  # messages per minute over every touch of the activity; None = no limit


class ChannelRateLimit(SQLModel, table=True):
    """A workspace's limit on one channel (a send component type: text_sms, email, ...), all activities."""

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True, ondelete="CASCADE")
    channel: str = Field(primary_key=True, max_length=40)
    max_per_minute: int
