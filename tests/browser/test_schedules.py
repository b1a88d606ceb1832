"""Seed 002 in Chromium: a daily activity with an effective period is created (a past start is refused with the
service's message), the list shows its schedule and next run, and it is paused and resumed at a new start time
(a past one refused again) from the row's More menu."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.demo import TIME_ZONE
from engine.models import User
from engine.runtime.lifecycle import begin_due
from engine.services import activities as activity_service
from engine.services.activities import PAST_START, ActivityInput
from engine.services.local_time import format_local
from engine.status import Action, ActivityStatus, why_not
from tests import factories as f
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import back_to_list, dismiss_toasts, expect_tooltip, menu_action, open_more, row, sign_in, toast

pytestmark = pytest.mark.browser
S = ActivityStatus
NAME = "Daily digest SMS"


def _committed(db: str, fn) -> None:  # noqa: ANN001
    """What happens outside the page (the marketer's Publish on the canvas, the scheduler's tick), kept."""
    engine = make_engine(db)
    try:
        with Session(engine, expire_on_commit=False) as session:
            fn(session)
            session.commit()
    finally:
        engine.dispose()


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _schedule_line(page: Page, text: str) -> None:
    expect(row(page, NAME).locator(".activity-schedule")).to_have_text(text)


def test_daily_activity_pause_and_resume(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")

    # New activity: Daily, with an effective period; a start in the past is the service's refusal
    page.click("#new-activity")
    page.fill("#new-name", NAME)
    page.click("#new-schedule")
    page.get_by_role("option", name="Daily", exact=True).click()
    expect(page.locator("#new-schedule-unit")).to_have_text("days")
    past = datetime.now(UTC) - timedelta(days=1)
    page.fill("#new-start", format_local(past, TIME_ZONE))
    expect(page.locator("#new-start-utc")).to_have_text(f"= {_utc(past)} UTC")  # the debounced input landed
    why = expected.refusal(db, "marketer", lambda s, u: activity_service.create_activity(
        session=s, actor=u, data=ActivityInput(name=NAME, start_time=past.replace(second=0, microsecond=0))))
    assert why == PAST_START
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(why)
    shot(page, "past-start-refused")
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    end = start + timedelta(days=10)
    page.fill("#new-start", format_local(start, TIME_ZONE))
    page.fill("#new-end", format_local(end, TIME_ZONE))
    expect(page.locator("#new-start-utc")).to_have_text(f"= {_utc(start)} UTC")
    expect(page.locator("#new-end-utc")).to_have_text(f"= {_utc(end)} UTC")
    shot(page, "daily-filled")
    page.click("#new-submit")
    toast(page, f"Created “{NAME}”")
    page.wait_for_url(re.compile(r".*/canvas\?mode=edit$"))
    created = expected.activity(db, NAME)
    assert (created.schedule, created.schedule_every, created.start_time, created.end_time) == ("daily", 1, start, end)

    # published (its flow set on the canvas): Not Started, next run at its start time
    def publish(session: Session) -> None:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        activity_service.publish(session=session, actor=marketer, activity_id=created.id, flow=f.valid_flow())

    _committed(db, publish)
    back_to_list(page, app_server.url)
    page.fill("#activity-search", NAME)
    page.press("#activity-search", "Enter")
    _schedule_line(page, f"Daily · next {_utc(start)} UTC")
    expect(row(page, NAME).locator(".status-badge")).to_have_text(S.NOT_STARTED.label)
    shot(page, "list-not-started")

    # the start time comes: the scheduler's step begins it; the next run is a day later
    _committed(db, lambda session: begin_due(session, start + timedelta(seconds=1)))
    page.reload()
    expect(row(page, NAME).locator(".status-badge")).to_have_text(S.IN_PROGRESS.label)
    _schedule_line(page, f"Daily · next {_utc(start + timedelta(days=1))} UTC")
    menu = open_more(page, NAME)
    expect_tooltip(page, menu.locator('[data-action="resume"]'), why_not(S.IN_PROGRESS, Action.RESUME) or "")
    expect_tooltip(page, menu.locator('[data-action="modify"]'), why_not(S.IN_PROGRESS, Action.MODIFY) or "")
    menu.locator('[data-action="pause"]').click()

    # Pause asks first
    expect(page.locator("#confirm-dialog")).to_contain_text("Resume asks for a new start time")
    shot(page, "confirm-pause")
    page.click("#confirm-ok")
    toast(page, f"Paused “{NAME}”.")
    expect(row(page, NAME).locator(".status-badge")).to_have_text(S.PAUSED.label)
    _schedule_line(page, "Daily")  # nothing planned while paused
    assert expected.activity(db, NAME).status == S.PAUSED
    dismiss_toasts(page)

    # Resume asks for a new start time: a past one is refused, a later one waits as Not Started
    menu_action(page, NAME, "resume")
    expect(page.locator("#resume-dialog")).to_be_visible()
    past = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    page.fill("#resume-start", format_local(past, TIME_ZONE))
    # the input is debounced: submit once the state has the typed time (its UTC hint shows it), not before
    expect(page.locator("#resume-start-utc")).to_have_text(f"= {_utc(past)} UTC")
    page.click("#resume-submit")
    expect(page.locator("#resume-error")).to_have_text(PAST_START)
    shot(page, "resume-past-refused")
    again = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    page.fill("#resume-start", format_local(again, TIME_ZONE))
    expect(page.locator("#resume-start-utc")).to_have_text(f"= {_utc(again)} UTC")
    page.click("#resume-submit")
    toast(page, f"Resumed “{NAME}”")
    expect(row(page, NAME).locator(".status-badge")).to_have_text(S.NOT_STARTED.label)
    _schedule_line(page, f"Daily · next {_utc(again)} UTC")
    shot(page, "resumed")
    resumed = expected.activity(db, NAME)
    assert (resumed.status, resumed.start_time) == (S.NOT_STARTED, again)

    # Modify (Not Started): every 2 days from the same start
    menu_action(page, NAME, "modify")
    expect(page.locator("#modify-name")).to_have_value(NAME)
    expect(page.locator("#modify-start")).to_have_value(format_local(again, TIME_ZONE))
    page.fill("#modify-schedule-every", "2")
    page.click("#modify-submit")
    toast(page, f"Modified “{NAME}”.")
    _schedule_line(page, f"Every 2 days · next {_utc(again)} UTC")
    modified = expected.activity(db, NAME)
    assert (modified.schedule_every, modified.status, modified.start_time) == (2, S.NOT_STARTED, again)
