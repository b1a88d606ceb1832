"""Send windows and send-rate limits (issue 16): the settings, their rules, and what a running touch shows.

- An activity's pacing is edited in its basic-information dialog (`PacingInput` on `ActivityInput.pacing`):
  a send window "HH:MM"–"HH:MM" in each customer's own time zone (the workspace's when theirs is empty or
  not an IANA zone), what happens outside it ("wait" until it opens, or "skip" the touch), and a limit of
  messages per minute over all the activity's touches. Both times or neither; the limit 1…MAX_PER_MINUTE.
- A workspace's limit per channel (Settings → Channels, admins): messages per minute of that channel over every
  activity. Where both apply, each minute's budget is the smaller one left (engine/runtime/rate_limit.py).
- `touch_pacing` is what a touch's panel and its action analysis show: the effective window and behaviour,
  how many wait for the window, how many were skipped, the rate backlog and its expected finish.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from pydantic import BaseModel
from sqlmodel import Session, col, delete, select

from engine.components.registry import get_component, send_types
from engine.errors import Forbidden, Invalid
from engine.models import ActivityPacing, ChannelRateLimit, Role, User, Workspace
from engine.models.pacing import SKIP, WAIT
from engine.runtime.connection import get_redis
from engine.runtime.rate_limit import RateLimiter
from engine.runtime.send_window import parse_hhmm, zone_of

MAX_PER_MINUTE = 100_000
OUTSIDE_LABELS = {WAIT: "wait until it opens", SKIP: "skip the touch"}


class PacingInput(BaseModel):
    """The pacing fields of the basic-information dialog ("" / None = not set)."""

    window_start: str = ""
    window_end: str = ""
    outside: str = WAIT
    max_per_minute: int | None = None

    @property
    def has_window(self) -> bool:
        return bool(self.window_start.strip() or self.window_end.strip())


def parse_limit(text: str, *, label: str = "The messages per minute") -> int | None:
    """A limit typed in a form: "" = none, else a whole number (checked by `check_limit`)."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    if not text.isdigit():
        raise Invalid(f"{label} must be a whole number (1 to {MAX_PER_MINUTE:,}), or empty for no limit.")
    return check_limit(int(text), label=label)


def check_limit(value: int | None, *, label: str = "The messages per minute") -> int | None:
    if value is not None and not 1 <= value <= MAX_PER_MINUTE:
        raise Invalid(f"{label} must be between 1 and {MAX_PER_MINUTE:,} (or empty for no limit).")
    return value


def check(data: PacingInput | None) -> None:
    """The dialog's pacing fields, with the dialog's words."""
    if data is None:
        return
    if data.outside not in OUTSIDE_LABELS:
        raise Invalid("Outside the send window: choose “wait until it opens” or “skip the touch”.")
    if data.has_window:
        times = []
        for label, text in (("start", data.window_start), ("end", data.window_end)):
            if not text.strip():
                raise Invalid(f"Enter the send window's {label} time too (HH:MM), or clear both.")
            try:
                times.append(parse_hhmm(text))
            except ValueError:
                raise Invalid(f"The send window's {label} time must be HH:MM (24-hour), e.g. 09:00; "
                              f"“{text.strip()}” is not.") from None
        if times[0] == times[1]:
            raise Invalid("The send window's start and end must differ (an end before the start spans midnight).")
    check_limit(data.max_per_minute)


def _normal(text: str) -> str:
    minutes = parse_hhmm(text)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def read(session: Session, activity_id: int | None) -> PacingInput:
    row = session.get(ActivityPacing, activity_id) if activity_id else None
    if row is None:
        return PacingInput()
    return PacingInput(window_start=row.window_start, window_end=row.window_end, outside=row.outside,
                       max_per_minute=row.max_per_minute)


def save(session: Session, activity_id: int, data: PacingInput | None) -> None:
    """Store an activity's pacing (checked by `check`); None leaves it as it is, an empty one removes it."""
    if data is None:
        return
    check(data)
    row = session.get(ActivityPacing, activity_id)
    if not data.has_window and data.max_per_minute is None and data.outside == WAIT:
        if row is not None:
            session.delete(row)
        return
    row = row or ActivityPacing(activity_id=activity_id)
    row.window_start = _normal(data.window_start) if data.has_window else ""
    row.window_end = _normal(data.window_end) if data.has_window else ""
    row.outside, row.max_per_minute = data.outside, data.max_per_minute
    session.add(row)


def forget(session: Session, activity_ids: list[int]) -> None:
    """Deleted activities take their pacing with them."""
    if activity_ids:
        session.exec(delete(ActivityPacing).where(col(ActivityPacing.activity_id).in_(activity_ids)))


# ---------------------------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class ChannelLimit:
    channel: str  # the send component type
    label: str
    max_per_minute: int | None


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin can see and change the channel settings.")


def channel_limits(*, session: Session, actor: User) -> list[ChannelLimit]:
    """Every sending channel with the workspace's messages-per-minute limit (None: no limit)."""
    _require_admin(actor)
    stored = dict(session.exec(select(ChannelRateLimit.channel, ChannelRateLimit.max_per_minute)
                               .where(ChannelRateLimit.workspace_id == actor.workspace_id)).all())
    channels = sorted(send_types(), key=lambda t: get_component(t).label)
    return [ChannelLimit(t, get_component(t).label, stored.get(t)) for t in channels]


def save_channel_limits(*, session: Session, actor: User, limits: dict[str, str]) -> list[ChannelLimit]:
    """Store the typed limits per channel ("" = none); all or nothing: one bad value saves none."""
    _require_admin(actor)
    known = send_types()
    parsed: dict[str, int | None] = {}
    for channel, text in limits.items():
        if channel not in known:
            raise Invalid(f"Unknown channel “{channel}”.")
        parsed[channel] = parse_limit(text, label=f"The {get_component(channel).label} limit")
    for channel, value in parsed.items():
        row = session.get(ChannelRateLimit, (actor.workspace_id, channel))
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(ChannelRateLimit(workspace_id=actor.workspace_id, channel=channel, max_per_minute=value))
        else:
            row.max_per_minute = value
            session.add(row)
    session.flush()
    return channel_limits(session=session, actor=actor)


# ---------------------------------------------------------------------------------------------- display


def describe(data: PacingInput, channel_limit: int | None = None) -> str:
    """The effective pacing of a touch in words ("" when there is none)."""
    parts = []
    if data.has_window:
        parts.append(f"Send window {data.window_start}–{data.window_end} (customer's local time); outside it: "
                     f"{OUTSIDE_LABELS.get(data.outside, data.outside)}")
    limits = [n for n in (data.max_per_minute, channel_limit) if n]
    if limits:
        parts.append(f"at most {min(limits):,} message{'s' if min(limits) > 1 else ''} per minute")
    return " · ".join(parts)


def workspace_zone(session: Session, workspace_id: int) -> str:
    ws = session.get(Workspace, workspace_id)
    return zone_of(ws.time_zone if ws else "UTC", "UTC").key


@dataclass(frozen=True)
class TouchPace:
    """A touch's pacing while its round runs (from its counters and the rate reservations)."""

    waiting: int  # held until their send window opens
    skipped: int  # passed unsent: outside the window with "skip"
    backlog: int  # held by the rate limit until their minute
    finish: str  # when the backlog is expected to be sent, "HH:MM" in the workspace's zone ("" without one)

    def text(self) -> str:
        parts = []
        if self.waiting:
            parts.append(f"waiting (send window) {self.waiting:,}")
        if self.skipped:
            parts.append(f"skipped (quiet hours) {self.skipped:,}")
        if self.backlog:
            parts.append(f"backlog {self.backlog:,}" + (f" · expected finish {self.finish}" if self.finish else ""))
        return " · ".join(parts)


def counts(metrics: dict[str, int]) -> dict[str, int]:
    """A touch's pacing counters: waiting, skipped, backlog (held − released, never negative)."""
    m = metrics.get
    return {"waiting": max(m("sw_held", 0) - m("sw_released", 0), 0), "skipped": m("skipped", 0),
            "backlog": max(m("rl_held", 0) - m("rl_released", 0), 0)}


def touch_status(*, metrics: dict[str, int], record_id: int, node_id: str, time_zone: str) -> TouchPace:
    """What the action analysis shows for a touch of a round (the caller checked the round's visibility)."""
    c = counts(metrics)
    finish = ""
    if c["backlog"]:
        try:
            last = RateLimiter(get_redis()).last_minutes(record_id).get(node_id)
        except redis.RedisError:
            last = None
        if last is not None:
            at = datetime.fromtimestamp((last + 1) * 60, UTC).astimezone(zone_of(time_zone, "UTC"))
            finish = at.strftime("%H:%M")
    return TouchPace(waiting=c["waiting"], skipped=c["skipped"], backlog=c["backlog"], finish=finish)


def card_extra(metrics: dict[str, int]) -> dict[str, int]:
    """A touch card's pacing figures (data attributes and tooltip), only those that are not zero."""
    c = counts(metrics)
    return {k: v for k, v in {"window_waiting": c["waiting"], "skipped": c["skipped"],
                              "backlog": c["backlog"]}.items() if v}


CARD_NOTES = {"window_waiting": "waiting (send window)", "skipped": "skipped (quiet hours)",
              "backlog": "waiting for the rate limit"}


def card_notes(extra: dict[str, int]) -> list[str]:
    """The tooltip's words for `card_extra`."""
    return [f"{extra[k]:,} {words}" for k, words in CARD_NOTES.items() if extra.get(k)]


def analysis_line(*, session: Session, workspace_id: int, is_send: bool, metrics: dict[str, int], record_id: int,
                  node_id: str) -> str:
    """The action analysis's pacing line for a touch ("" when nothing waits and nothing was skipped)."""
    if not is_send:
        return ""
    return touch_status(metrics=metrics, record_id=record_id, node_id=node_id,
                        time_zone=workspace_zone(session, workspace_id)).text()
