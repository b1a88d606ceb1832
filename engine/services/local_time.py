"""Date-times as a person types and reads them: "YYYY-MM-DD HH:MM", 24-hour, in the workspace's time zone.

The UI's time inputs are plain text in this one format (a browser's datetime-local shows "mm/dd/yyyy, --:-- --"
with AM/PM in an en-US locale, whatever the page says), so the parsing — and its message — is here, next to the
services that store the result in UTC.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from engine.errors import Invalid
from engine.models import User, Workspace

FORMAT = "YYYY-MM-DD HH:MM"
EXAMPLE = "2026-12-01 09:30"
_PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})")


def zone(name: str) -> ZoneInfo:
    """The zone of that IANA name; an unknown name (never stored by the services) falls back to UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_message(label: str) -> str:
    return f"{label}: enter the date and 24-hour time as {FORMAT}, e.g. {EXAMPLE}."


def parse_local(text: str, time_zone: str, *, label: str = "Time") -> datetime | None:
    """`text` in `time_zone` as an aware UTC datetime; None for an empty field; Invalid with a message naming
    the field for anything else (a wrong format, a day that does not exist, a time skipped by a clock change)."""
    text = (text or "").strip()
    if not text:
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise Invalid(format_message(label))
    year, month, day, hour, minute = (int(g) for g in match.groups())
    tz = zone(time_zone)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        raise Invalid(f"{label}: {text} is not a date and time of the calendar ({FORMAT}, 24-hour).") from None
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise Invalid(f"{label}: {text} does not exist in {tz.key} (the clocks change then).")
    return utc


def format_local(when: datetime | None, time_zone: str) -> str:
    """A stored (UTC) time as the inputs show it; "" for None."""
    if when is None:
        return ""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(zone(time_zone)).strftime("%Y-%m-%d %H:%M")


def utc_hint(text: str, time_zone: str) -> str:
    """What the field's text means in UTC ("= 2026-12-01 01:30 UTC"), shown under the input; "" when the field
    is empty or unreadable (the message comes on submit), or when the zone is UTC itself."""
    if zone(time_zone).key == "UTC":
        return ""
    try:
        when = parse_local(text, time_zone)
    except Invalid:
        return ""
    return "" if when is None else f"= {when.strftime('%Y-%m-%d %H:%M')} UTC"


def workspace_time_zone(*, session: Session, actor: User) -> str:
    ws = session.get(Workspace, actor.workspace_id)
    return zone(ws.time_zone if ws is not None else "UTC").key
