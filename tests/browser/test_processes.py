"""Seed 002's schedule follow-ups and reusable processes in Chromium: the canvas header shows the schedule and next
run, its Basic information dialog greys the schedule with the status machine's why-not while In Progress (and
changes a Draft's); a
published activity is saved as a process from the canvas, New from Template lists it with a preview, an activity
is created from it (the canvas names the process), and the list is filtered by process and by audience."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import User
from engine.services import processes
from engine.services.activities import ActivityInput
from engine.services.audiences import list_audiences
from engine.services.canvas import canvas_view
from engine.status import Action, ActivityStatus, why_not
from marketing_app.routes import canvas_route
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import (
    back_to_list,
    dismiss_toasts,
    expect_rows,
    expect_tooltip,
    row,
    sign_in,
    sign_out,
    toast,
)

pytestmark = pytest.mark.browser
SOURCE = "Welcome SMS day 0"  # the demo's daily In Progress activity of `marketer`, public
PROCESS = "Daily welcome SMS"
MADE = "Welcome SMS for spring"


def test_save_as_process_create_from_it_and_filter(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    source = expected.activity(db, SOURCE)

    # the canvas header: schedule and next run, as the canvas view service computes them
    page.goto(app_server.url + canvas_route(source.id, mode="edit"))
    view = expected.call(db, "marketer", lambda s, u: canvas_view(session=s, actor=u, activity_id=source.id))
    assert view.schedule_label == "Daily"
    label = view.schedule_label + (f" · next run {view.next_run_label}" if view.next_run_label else "")
    expect(page.locator("#canvas-schedule")).to_have_text(label)

    # the pencil: the schedule is shown but In Progress may not change it; the dialog says why
    page.click("#canvas-edit-info")
    expect(page.locator("#info-dialog")).to_be_visible()
    expect(page.locator("#info-schedule")).to_be_disabled()
    expect(page.locator("#info-schedule")).to_contain_text("Daily")
    expect(page.locator("#info-schedule-why-not")).to_have_text(
        why_not(ActivityStatus.IN_PROGRESS, Action.SCHEDULE) or "")
    shot(page, "pencil-schedule-locked")
    page.keyboard.press("Escape")
    expect(page.locator("#info-dialog")).to_have_count(0)

    # Save as process: the published version, under a name
    page.click("#canvas-save-process")
    expect(page.locator("#process-dialog")).to_contain_text(f"Saves {view.process_version_label}")
    page.fill("#process-name", PROCESS)
    page.fill("#process-description", "Day-0 welcome text to new members")
    shot(page, "save-as-process")
    page.click("#process-submit")
    toast(page, f"Saved “{PROCESS}” as a process")
    saved = expected.call(db, "marketer", lambda s, u: processes.list_processes(session=s, actor=u))
    made_process = next(p for p in saved if p.name == PROCESS)
    assert made_process.source == f"{SOURCE} · {view.process_version_label}"
    # the same name again is the service's refusal, in the dialog
    page.click("#canvas-save-process")
    page.fill("#process-name", PROCESS.upper())
    page.click("#process-submit")
    expect(page.locator("#process-error")).to_have_text(f"A process named “{PROCESS.upper()}” already exists.")
    page.keyboard.press("Escape")
    dismiss_toasts(page)

    # New from Template lists it with a preview of its flow; Use creates an activity from it
    page.goto(app_server.url + "/templates")
    card = page.locator(f'.process-card[data-name="{PROCESS}"]')
    expect(card).to_be_visible()
    expect(card.locator(".react-flow__node")).to_have_count(len(made_process.flow["nodes"]))
    expect(card.locator(".process-source")).to_contain_text(f"From {SOURCE}")
    shot(page, "templates-with-process", full=True)
    card.locator(".use-process").click()
    expect(page.locator("#template-dialog")).to_contain_text(f"Process: {PROCESS}")
    page.fill("#tpl-name", MADE)
    page.click("#tpl-submit")
    page.wait_for_url(re.compile(r".*/canvas\?mode=edit$"))
    expect(page.locator("#canvas-origin-process")).to_contain_text(f"From process {PROCESS}")
    shot(page, "canvas-from-process")
    created = expected.activity(db, MADE)
    assert (created.process_id, created.process_name) == (made_process.id, PROCESS)

    # a Draft may change its schedule in the pencil; Save Draft keeps it and the list shows it
    expect(page.locator("#canvas-schedule")).to_have_text("Once")
    page.click("#canvas-edit-info")
    expect(page.locator("#info-schedule")).to_be_enabled()
    expect(page.locator("#info-schedule-why-not")).to_have_count(0)
    page.click("#info-schedule")
    page.get_by_role("option", name="Hourly", exact=True).click()
    page.fill("#info-schedule-every", "3")
    page.click("#info-submit")
    expect(page.locator("#info-dialog")).to_have_count(0)
    expect(page.locator("#canvas-schedule")).to_have_text("Every 3 hours")
    shot(page, "draft-schedule-changed")
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    saved_draft = expected.activity(db, MADE)
    assert (saved_draft.schedule, saved_draft.schedule_every) == ("hourly", 3)

    # the list: the row names its process; the Process filter shows exactly the service's page
    back_to_list(page, app_server.url)
    page.click("#process-filter")
    page.get_by_role("option", name=PROCESS, exact=True).click()
    expect_rows(page, expected.page(db, "marketer", process_id=made_process.id))
    expect(row(page, MADE).locator(".activity-process")).to_contain_text(f"From process {PROCESS}")
    expect(row(page, MADE).locator(".activity-schedule")).to_have_text("Every 3 hours")
    shot(page, "list-filtered-by-process")

    # the Audience filter (with the process filter cleared): the activities whose trigger enters that audience
    page.click("#process-filter")
    page.get_by_role("option", name="All processes", exact=True).click()
    audiences = expected.call(db, "marketer", lambda s, u: [(a.id, a.name) for a in list_audiences(session=s,
                                                                                                   actor=u)])
    audience_id, audience_name = audiences[0]  # the demo's flows of the first shape enter audience 1
    page.click("#audience-filter")
    page.get_by_role("option", name=audience_name, exact=True).click()
    found = expected.page(db, "marketer", audience_id=audience_id)
    assert 0 < found.total < expected.page(db, "marketer").total
    expect_rows(page, found)
    shot(page, "list-filtered-by-audience")


def _kept(db: str, username: str, fn):  # noqa: ANN001, ANN202
    """A service call made outside the page (another session of the marketer), committed."""
    engine = make_engine(db)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            out = fn(session, user)
            session.commit()
            return out
    finally:
        engine.dispose()


def test_visibility_rename_and_delete(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    public_source = expected.activity(db, "Birthday month coupon")  # marketer's, public, In Progress
    private_source = expected.activity(db, "Welcome email day 3")  # marketer's, private, Not Started
    shared = _kept(db, "marketer", lambda s, u: processes.save_process(
        session=s, actor=u, activity_id=public_source.id, name="Birthday coupon flow").id)
    _kept(db, "marketer", lambda s, u: processes.save_process(
        session=s, actor=u, activity_id=private_source.id, name="Private welcome email"))
    _kept(db, "marketer", lambda s, u: processes.create_from_process(
        session=s, actor=u, data=ActivityInput(name="Birthday coupon for VIPs"), process_id=shared))

    # another marketer: the public source's process, not the private one's; Rename / Delete greyed with why
    sign_in(page, app_server.url, "marketer2")
    page.goto(app_server.url + "/templates")
    expect(page.locator('.process-card[data-name="Birthday coupon flow"]')).to_be_visible()
    expect(page.locator('.process-card[data-name="Private welcome email"]')).to_have_count(0)
    page.locator('.process-card[data-name="Birthday coupon flow"] .process-more').click()
    menu = page.locator(".process-menu")
    why = "Only the process's creator or an admin can rename or delete it."
    expect(menu.locator('[data-action="rename"]')).to_have_attribute("aria-disabled", "true")
    shot(page, "other-marketer-sees-public-process")
    expect_tooltip(page, menu.locator('[data-action="delete"]'), why)
    page.keyboard.press("Escape")
    sign_out(page)

    # its creator renames it: the activity made from it follows; then deletes it: the activity keeps the name
    sign_in(page, app_server.url, "marketer")
    page.goto(app_server.url + "/templates")
    expect(page.locator('.process-card[data-name="Private welcome email"]')).to_be_visible()
    page.locator('.process-card[data-name="Birthday coupon flow"] .process-more').click()
    page.locator('.process-menu [data-action="rename"]').click()
    page.fill("#rename-name", "Private welcome email")
    page.click("#rename-submit")
    expect(page.locator("#rename-error")).to_have_text("A process named “Private welcome email” already exists.")
    page.fill("#rename-name", "Birthday coupon flow v2")
    # the edit clears the error, which moves Save up: click once the page shows the server took the edit (a click
    # while the callout is removed can land between the button's old and new place and be lost)
    expect(page.locator("#rename-error")).to_have_count(0)
    page.click("#rename-submit")
    toast(page, "Renamed to “Birthday coupon flow v2”.")
    expect(page.locator('.process-card[data-name="Birthday coupon flow v2"]')).to_be_visible()
    shot(page, "renamed")
    back_to_list(page, app_server.url)
    expect(row(page, "Birthday coupon for VIPs").locator(".activity-process")).to_have_text(
        "From process Birthday coupon flow v2")

    page.goto(app_server.url + "/templates")
    page.locator('.process-card[data-name="Birthday coupon flow v2"] .process-more').click()
    page.locator('.process-menu [data-action="delete"]').click()
    expect(page.locator("#process-delete-dialog")).to_contain_text("Activities created from it keep their flows")
    shot(page, "confirm-delete")
    page.click("#process-delete-ok")
    toast(page, "Deleted the process “Birthday coupon flow v2”.")
    expect(page.locator('.process-card[data-name="Birthday coupon flow v2"]')).to_have_count(0)
    assert expected.activity(db, "Birthday coupon for VIPs").process_id is None
    back_to_list(page, app_server.url)
    expect(row(page, "Birthday coupon for VIPs").locator(".activity-process")).to_have_text(
        "From process Birthday coupon flow v2 (deleted)")
    page.click("#process-filter")
    expect(page.get_by_role("option", name="Birthday coupon flow v2", exact=True)).to_have_count(0)
    expect(page.get_by_role("option", name="Private welcome email", exact=True)).to_be_visible()
    shot(page, "deleted-process-in-list")
