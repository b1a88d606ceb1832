"""Typed date-times: "YYYY-MM-DD HH:MM" 24-hour in the workspace's zone, stored as UTC, with messages naming the
field for anything else."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from engine.errors import Invalid
from engine.services import local_time as lt
from tests import factories as f


def test_typed_in_the_zone_stored_in_utc_and_shown_back() -> None:
    when = lt.parse_local(" 2030-03-01 09:00 ", "Asia/Shanghai")
    assert when == datetime(2030, 3, 1, 1, 0, tzinfo=UTC)
    assert lt.format_local(when, "Asia/Shanghai") == "2030-03-01 09:00"
    assert lt.utc_hint("2030-03-01 09:00", "Asia/Shanghai") == "= 2030-03-01 01:00 UTC"
    assert lt.parse_local("2030-03-01 23:59", "UTC") == datetime(2030, 3, 1, 23, 59, tzinfo=UTC)
    assert lt.parse_local("", "Asia/Shanghai") is None and lt.format_local(None, "UTC") == ""


@pytest.mark.parametrize("text", ["03/01/2030 09:00", "2030-03-01 9:00 AM", "2030-3-1 09:00", "2030-03-01",
                                  "tomorrow", "2030-03-01 09:00:00"])
def test_other_shapes_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(Invalid) as err:
        lt.parse_local(text, "UTC", label="Start time")
    assert err.value.message == lt.format_message("Start time") == (
        "Start time: enter the date and 24-hour time as YYYY-MM-DD HH:MM, e.g. 2026-12-01 09:30.")
    assert lt.utc_hint(text, "Asia/Shanghai") == ""


@pytest.mark.parametrize(("text", "why"), [
    ("2030-02-30 09:00", "is not a date and time of the calendar"),
    ("2030-03-01 24:00", "is not a date and time of the calendar"),
    ("2030-03-10 02:30", "does not exist in America/New_York (the clocks change then)"),
])
def test_impossible_times_are_refused(text: str, why: str) -> None:
    with pytest.raises(Invalid, match=why.replace("(", r"\(").replace(")", r"\)")):
        lt.parse_local(text, "America/New_York", label="End time")


def test_the_workspace_zone(session: Session) -> None:
    ws = f.workspace(session)
    user = f.user(session, ws)
    assert lt.workspace_time_zone(session=session, actor=user) == "UTC"  # the column's default
    ws.time_zone = "Europe/Paris"
    session.add(ws)
    session.flush()
    assert lt.workspace_time_zone(session=session, actor=user) == "Europe/Paris"
    assert lt.zone("Not/AZone").key == "UTC"
