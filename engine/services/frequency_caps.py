"""Settings → Frequency caps (issue 16, admins): the workspace's rules "at most N messages of a channel (or of any
channel) per customer in D days". Every rule holds at once; the runtime checks them all before a touch sends
(engine/runtime/caps.py), so a change applies to the next batch sent (within a few seconds: the runtime caches
the rules briefly)."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Role, User
from engine.models.frequency_cap import ANY_CHANNEL, FrequencyCap
from engine.shared.frequency_caps import ANY_LABEL, channel_label, describe, touch_channels

ADMINS_ONLY = "Only an admin can manage the workspace's frequency caps."
MAX_MESSAGES_MAX = 1000
WINDOW_DAYS_MAX = 90
RULES_MAX = 20


def channel_choices() -> list[tuple[str, str]]:
    """(value, label) of what a rule may cap: any channel, then each touch channel."""
    return [(ANY_CHANNEL, ANY_LABEL), *touch_channels().items()]


@dataclass(frozen=True)
class CapRule:
    id: int
    channel: str
    channel_label: str
    max_messages: int
    window_days: int

    @property
    def text(self) -> str:
        """The rule as a sentence (the capped customers' reason names it)."""
        return describe(self.channel, self.max_messages, self.window_days)


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMINS_ONLY)


def _row(cap: FrequencyCap) -> CapRule:
    return CapRule(id=int(cap.id or 0), channel=cap.channel, channel_label=channel_label(cap.channel),
                   max_messages=cap.max_messages, window_days=cap.window_days)


def _whole(value: str | int, label: str, upper: int) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= upper:
        raise Invalid(f"{label}: enter a whole number from 1 to {upper}.")
    return int(text)


def _checked(session: Session, actor: User, channel: str, max_messages: str | int, window_days: str | int,
             *, other_than: int | None = None) -> tuple[str, int, int]:
    channel = (channel or "").strip()
    if channel != ANY_CHANNEL and channel not in touch_channels():
        raise Invalid(f'Channel: "{channel}" is not a channel a frequency cap can limit (choose any channel or a '
                      "Marketing Touch).")
    most = _whole(max_messages, "Maximum messages", MAX_MESSAGES_MAX)
    days = _whole(window_days, "Window", WINDOW_DAYS_MAX)
    stmt = select(FrequencyCap.id).where(FrequencyCap.workspace_id == actor.workspace_id,
                                         FrequencyCap.channel == channel, FrequencyCap.window_days == days)
    if other_than is not None:
        stmt = stmt.where(col(FrequencyCap.id) != other_than)
    if session.exec(stmt).first() is not None:
        raise Conflict(f"A rule for {channel_label(channel).lower()} over {days} days exists already: edit it "
                       "instead.")
    return channel, most, days


def list_caps(*, session: Session, actor: User) -> list[CapRule]:
    _require_admin(actor)
    rows = session.exec(select(FrequencyCap).where(FrequencyCap.workspace_id == actor.workspace_id)
                        .order_by(col(FrequencyCap.id))).all()
    return [_row(r) for r in rows]


def create_cap(*, session: Session, actor: User, channel: str, max_messages: str | int,
               window_days: str | int) -> CapRule:
    _require_admin(actor)
    channel, most, days = _checked(session, actor, channel, max_messages, window_days)
    count = len(session.exec(select(FrequencyCap.id).where(FrequencyCap.workspace_id == actor.workspace_id)).all())
    if count >= RULES_MAX:
        raise Conflict(f"A workspace can have at most {RULES_MAX} frequency caps: edit or delete one.")
    cap = FrequencyCap(workspace_id=actor.workspace_id, channel=channel, max_messages=most, window_days=days)
    session.add(cap)
    session.flush()
    return _row(cap)


def _cap(session: Session, actor: User, cap_id: int) -> FrequencyCap:
    cap = session.get(FrequencyCap, cap_id)
    if cap is None or cap.workspace_id != actor.workspace_id:
        raise NotFound("Frequency cap not found.")
    return cap


def update_cap(*, session: Session, actor: User, cap_id: int, channel: str, max_messages: str | int,
               window_days: str | int) -> CapRule:
    _require_admin(actor)
    cap = _cap(session, actor, cap_id)
    cap.channel, cap.max_messages, cap.window_days = _checked(session, actor, channel, max_messages, window_days,
                                                              other_than=cap_id)
    cap.updated_at = clock.now()
    session.add(cap)
    session.flush()
    return _row(cap)


def delete_cap(*, session: Session, actor: User, cap_id: int) -> None:
    _require_admin(actor)
    session.delete(_cap(session, actor, cap_id))
    session.flush()
