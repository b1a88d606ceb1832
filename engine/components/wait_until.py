"""Wait Until: parks customers until a time, computed in EACH customer's time zone, then the scheduler
resumes them on "out". Modes:
- period: a duration (days / hours / minutes), e.g. wait 1 hour;
- clock: the next HH:MM local time, e.g. the next 12:00 (tomorrow's if it is already past 12:00 there);
- days_at: HH:MM local time N days later, e.g. 18:00 after 7 days.
"""

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from engine.components.base import Batch, Component, CustomerView, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, hints, plural
from engine.components.splitting import unique

DEFAULT_TIMEZONE = str(CustomerView.__dataclass_fields__["timezone"].default)
MAX_DAYS = 365
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class WaitUntilConfig(BaseModel):
    mode: Literal["period", "clock", "days_at"] = Field(
        title="Wait", description="period: for a duration; clock: until the next HH:MM; days_at: until HH:MM "
                                  "after N days (in each customer's time zone)",
        json_schema_extra=hints(enum_labels={"period": "For a duration", "clock": "Until the next time of day",
                                             "days_at": "Until a time, N days later"}))
    days: int = Field(0, ge=0, le=MAX_DAYS, title="Days", description="period: days; days_at: days later",
                      json_schema_extra=hints(shown_when={"mode": ["period", "days_at"]}))
    hours: int = Field(0, ge=0, le=24 * MAX_DAYS, title="Hours", description="period only",
                       json_schema_extra=hints(shown_when={"mode": ["period"]}))
    minutes: int = Field(0, ge=0, le=60 * 24 * MAX_DAYS, title="Minutes", description="period only",
                         json_schema_extra=hints(shown_when={"mode": ["period"]}))
    at: str = Field("", max_length=5, title="Time (HH:MM)", description="clock and days_at: local time, e.g. 12:00",
                    json_schema_extra=hints(widget="time", shown_when={"mode": ["clock", "days_at"]}))

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        value = value.strip()
        if value and not CLOCK.match(value):
            raise ValueError("write the time as HH:MM, e.g. 18:00")
        return value

    def period(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)

    def clock(self) -> time:
        match = CLOCK.match(self.at)
        if match is None:  # the validator lets only HH:MM or "" (a period wait, which has no clock) through
            raise ValueError(f"no time of day set (at={self.at!r})")
        hour, minute = match.groups()
        return time(int(hour), int(minute))


def zone(name: str | None) -> ZoneInfo:
    """The customer's time zone; an unknown or empty name falls back to the default zone."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def wake_time(config: WaitUntilConfig, now: datetime, timezone: str | None) -> datetime:
    """When a customer in `timezone` who arrives at `now` (aware) wakes up, in UTC."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if config.mode == "period":
        return (now + config.period()).astimezone(UTC)
    tz = zone(timezone)
    local_now = now.astimezone(tz)
    if config.mode == "clock":
        target = _local(local_now.date(), config.clock(), tz)
        if target < local_now:
            target = _local(local_now.date() + timedelta(days=1), config.clock(), tz)
    else:
        target = _local(local_now.date() + timedelta(days=config.days), config.clock(), tz)
    return target.astimezone(UTC)


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"Wait 2 d 3 h", "Until the next 12:00", "Until 18:00, 7 days later"."""
    mode = config.get("mode")
    if mode == "clock" and config.get("at"):
        return f"Until the next {config['at']}"
    if mode == "days_at" and config.get("at"):
        return f"Until {config['at']}, {plural(int(config.get('days') or 0), 'day')} later"
    if mode == "period":
        parts = [f"{config[k]} {u}" for k, u in (("days", "d"), ("hours", "h"), ("minutes", "min"))
                 if isinstance(config.get(k), int) and config[k] > 0]
        return "Wait " + " ".join(parts) if parts else ""
    return ""


class WaitUntil(Component):
    type = "wait_until"
    label = "Wait Until"
    category = Category.CONTROL
    Config = WaitUntilConfig
    meta = Meta(icon="Hourglass", blurb="Wait a while or until a time", order=10, summary=summary,
                starter={"mode": "period"})

    def uses_attributes(self, config: Any) -> bool:
        return False

    def uses_tags(self, config: Any) -> frozenset[str] | None:
        return frozenset()

    def check(self, config: WaitUntilConfig) -> list[str]:
        if config.mode == "period":
            if config.period() <= timedelta(0):
                return ["period: set how long to wait (days, hours or minutes)"]
            if config.period() > timedelta(days=MAX_DAYS):
                return [f"period: at most {MAX_DAYS} days"]
            return []
        problems = [] if config.at else ["at: set the time of day (HH:MM)"]
        if config.mode == "days_at" and config.days < 1:
            problems.append("days: at least 1 day later")
        return problems

    def execute(self, batch: Batch, config: WaitUntilConfig, ports: Ports) -> Outcome:
        now = ports.now()
        by_wake: dict[datetime, list[int]] = defaultdict(list)
        for c in unique(batch.customers):
            by_wake[wake_time(config, now, c.timezone)].append(c.id)
        parked = sorted(by_wake.items())
        return Outcome(parked=parked, results={cid: ("parked", None) for _, ids in parked for cid in ids})
