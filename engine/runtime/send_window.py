"""Send windows (quiet hours) in each customer's own time zone: pure time arithmetic, no I/O.

A window is two local times of day as minutes since midnight, [start, end): 09:00–21:00 is open from 09:00 up
to 20:59; an end earlier than the start spans midnight (21:00–09:00 is open overnight). A customer's zone is
their `customer.timezone` when it names an IANA zone, else the workspace's. Customers are grouped by zone, so
a batch costs one offset per distinct zone, not a zone conversion per customer."""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.components.base import CustomerView

Window = tuple[int, int]  # (start, end) in minutes since local midnight


def parse_hhmm(text: str) -> int:
    """"HH:MM" (24-hour) → minutes since midnight; ValueError when it is not such a time."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2 or len(hours) > 2:
        raise ValueError(text)
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(text)
    return h * 60 + m


def is_open(window: Window, minute: int) -> bool:
    start, end = window
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


@lru_cache(maxsize=1024)
def zone_of(name: str, fallback: str) -> ZoneInfo:
    """The zone `name` names; the workspace's (`fallback`, else UTC) for an empty or unknown one."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_open(window: Window, now: datetime, zone: ZoneInfo) -> datetime:
    """The next instant (UTC) the window opens in `zone`, after `now`."""
    local = now.astimezone(zone)
    opens = time(window[0] // 60, window[0] % 60)
    for days in (0, 1, 2):
        candidate = datetime.combine(local.date() + timedelta(days=days), opens, tzinfo=zone)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError("a window opens within two days")  # pragma: no cover


def split(window: Window, now: datetime, customers: list[CustomerView], fallback: str
          ) -> tuple[list[int], dict[datetime, list[int]]]:
    """(customers inside the window now, {when it opens: customers outside it}) — one zone lookup per zone."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for c in customers:
        by_zone[c.timezone or ""].append(c.id)
    inside: list[int] = []
    outside: dict[datetime, list[int]] = defaultdict(list)
    for name, ids in by_zone.items():
        zone = zone_of(name, fallback)
        local = now.astimezone(zone)
        if is_open(window, local.hour * 60 + local.minute):
            inside.extend(ids)
        else:
            outside[next_open(window, now, zone)].extend(ids)
    return inside, dict(outside)
