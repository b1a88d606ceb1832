"""Manage Versions and Execution Records drawers, and the New activity dialog, in Chromium. The buttons call the
services; what they may do and what they show comes from the services."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from engine.models import ActivityCampaignLink
from engine.services import records as record_service
from engine.services import versions as version_service
from engine.services.activities import ActivityInput, create_activity, get_activity
from engine.status import RECORD_RULES, Action, ActivityStatus, RecordAction
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import back_to_list, dismiss_toasts, expect_tooltip, menu_action, row, sign_in, toast

pytestmark = pytest.mark.browser
S = ActivityStatus


def show_all(page: Page) -> None:
    page.click("#page-size")
    page.get_by_role("option", name="50", exact=True).click()
    expect(page.locator("#page-info")).to_have_text("Page 1 of 1")


def version_rows(db: str, activity_id: int) -> list[version_service.VersionRow]:
    return expected.call(db, "marketer", lambda s, u: version_service.list_versions(
        session=s, actor=u, activity_id=activity_id))


def record_rows(db: str, activity_id: int, status: str | None = None) -> list[record_service.RecordRow]:
    return expected.call(db, "marketer", lambda s, u: record_service.list_records(
        session=s, actor=u, activity_id=activity_id, status=status))


def expect_versions(page: Page, db: str, activity_id: int) -> list[version_service.VersionRow]:
    rows = version_rows(db, activity_id)
    expect(page.locator("#versions-drawer .version-row td:first-child")).to_have_text(
        [re.compile(rf"^V{v.number}") for v in rows])
    expect(page.locator("#versions-drawer .version-status")).to_have_text([v.status_label for v in rows])
    return rows


def expect_records(page: Page, db: str, activity_id: int, status: str | None = None) -> None:
    rows = record_rows(db, activity_id, status)
    expect(page.locator("#records-drawer .record-row td:first-child")).to_have_text([f"#{r.number}" for r in rows])
    expect(page.locator("#records-drawer .record-status")).to_have_text([r.status_label for r in rows])


def test_manage_versions_drawer(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    show_all(page)
    activity = expected.activity(db, "Dormant 90 days coupon")
    menu_action(page, activity.name, "versions")
    drawer = page.locator("#versions-drawer")
    expect(drawer).to_contain_text(activity.name)
    rows = expect_versions(page, db, activity.id)
    v2, v1 = rows[0], rows[1]
    assert (v2.number, v1.number) == (2, 1) and v2.is_live
    expect(drawer.locator(".version-row").first).to_contain_text(v2.author_name)
    shot(page, "versions")

    # Stop is refused for a Stopped activity: the tooltip says why (the engine's own words)
    why = expected.call(db, "marketer", lambda s, u: version_service.version_refusal(
        actor=u, activity=get_activity(session=s, actor=u, activity_id=activity.id), row=v2, action=Action.STOP))
    assert why
    expect_tooltip(page, drawer.locator('.version-row[data-number="V2"] .tip-wrap:has([data-action="stop"])'), why)

    # start the older version, then stop it
    drawer.locator('.version-row[data-number="V1"] [data-action="start"]').click()
    toast(page, f"Started “{activity.name}” on V1: now In Progress.")
    rows = expect_versions(page, db, activity.id)
    assert next(v for v in rows if v.number == 1).is_live
    assert expected.activity(db, activity.name).status == S.IN_PROGRESS
    drawer.locator('.version-row[data-number="V1"] [data-action="stop"]').click()
    toast(page, f"Stopped “{activity.name}” on V1: now Stopped.")
    expect_versions(page, db, activity.id)
    assert expected.activity(db, activity.name).status == S.STOPPED
    dismiss_toasts(page)

    # View a version: the canvas shows that version
    drawer.locator('.version-row[data-number="V2"] [data-action="view"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity.id}/canvas\?version={v2.id}$"))
    expect(page.locator("#canvas-version")).to_have_text("V2")
    expect(row(page, activity.name)).to_have_count(0)

    # the canvas page opens the same drawer; Copy of a version opens the copy
    page.click("#canvas-versions")
    expect_versions(page, db, activity.id)
    page.locator('#versions-drawer .version-row[data-number="V1"] [data-action="copy"]').click()
    toast(page, f"Copied “{activity.name}”")
    expect(page.locator("#canvas-name")).to_have_text(f"{activity.name}-Copy")
    assert expected.activity(db, f"{activity.name}-Copy").status == S.DRAFT


def test_execution_records_drawer(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    show_all(page)
    periodic = expected.activity(db, "Welcome SMS day 0")
    menu_action(page, periodic.name, "records")
    drawer = page.locator("#records-drawer")
    expect(drawer).to_contain_text(periodic.name)
    expect_records(page, db, periodic.id)
    shot(page, "records")

    # the status filter
    for value, label in (("completed", "Completed"), ("in_progress", "In Progress"), ("stopped", "Stopped")):
        drawer.get_by_role("radio", name=label).click()
        if record_rows(db, periodic.id, value):
            expect_records(page, db, periodic.id, value)
        else:
            expect(page.locator("#records-empty")).to_be_visible()
    drawer.get_by_role("radio", name="All").click()
    expect_records(page, db, periodic.id)

    # Stop is refused on a finished round (the record rules' words)
    done = next(r for r in record_rows(db, periodic.id) if r.status == "completed")
    stop_of_done = drawer.locator(f'.record-row[data-number="#{done.number}"] .tip-wrap:has([data-action="stop"])')
    expect_tooltip(page, stop_of_done, f"{RECORD_RULES[RecordAction.STOP][2]} (status: Completed)")

    # stop the running round (after confirming): a periodic activity keeps running
    live = next(r for r in record_rows(db, periodic.id) if r.can_stop)
    drawer.locator(f'.record-row[data-number="#{live.number}"] [data-action="stop"]').click()
    page.click("#record-stop-confirm")
    toast(page, f"Stopped round #{live.number} of “{periodic.name}”.")
    expect_records(page, db, periodic.id)
    assert expected.activity(db, periodic.name).status == S.IN_PROGRESS
    dismiss_toasts(page)

    # View a round: the canvas shows the version it ran
    drawer.locator(f'.record-row[data-number="#{done.number}"] [data-action="view"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{periodic.id}/canvas\?record={done.id}$"))
    expect(page.locator("#canvas-record")).to_contain_text(f"Round #{done.number} · Completed")
    expect(page.locator("#canvas-version")).to_have_text(f"V{done.version_number}")
    back_to_list(page, app_server.url)

    # Re-run a round that could not get its crowd data
    show_all(page)
    failed = expected.activity(db, "618 app push countdown")
    assert failed.status == S.ABNORMAL_END
    menu_action(page, failed.name, "records")
    broken = next(r for r in record_rows(db, failed.id) if r.can_rerun)
    drawer.locator(f'.record-row[data-number="#{broken.number}"] [data-action="rerun"]').click()
    toast(page, "Re-run started as round #")
    expect_records(page, db, failed.id)
    assert expected.activity(db, failed.name).status == S.IN_PROGRESS
    shot(page, "rerun")
    page.click("#records-drawer-close")
    expect(row(page, failed.name).locator(".status-badge")).to_have_text("In Progress")


def test_new_activity_dialog(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    page.click("#new-activity")
    dialog = page.locator("#new-activity-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#new-submit")).to_be_disabled()  # no name yet

    # the browser's limits: maxLength from the engine, with live counters
    expect(page.locator("#new-name")).to_have_attribute("maxlength", "60")
    expect(page.locator("#new-description")).to_have_attribute("maxlength", "90")
    page.fill("#new-name", "Member Day reminder")
    expect(page.locator("#new-name-count")).to_have_text("19/60")
    page.fill("#new-description", "x" * 95)  # the browser keeps 90
    expect(page.locator("#new-description")).to_have_value("x" * 90)
    expect(page.locator("#new-description-count")).to_have_text("90/90")
    page.fill("#new-description", "Two waves, SMS then app push")

    # sub-activities: the primary picks all of its subs
    page.click("#new-campaigns")
    page.click('[data-primary="Member Day"]')
    expect(page.locator('[data-sub="Member Day SMS"] button[role="checkbox"]')).to_have_attribute(
        "data-state", "checked")
    expect(page.locator('[data-sub="Member Day App"] button[role="checkbox"]')).to_have_attribute(
        "data-state", "checked")
    page.keyboard.press("Escape")
    expect(page.locator("#new-campaigns")).to_contain_text("+1")

    # the service checks the times: an end before the start is refused with its message
    page.fill("#new-start", "2030-03-01 09:00")
    page.fill("#new-end", "2030-02-01 09:00")
    # typed in the demo workspace's zone (Asia/Shanghai, UTC+8): 09:00 there is 01:00 UTC
    start, end = datetime(2030, 3, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, 1, tzinfo=UTC)
    why = expected.refusal(db, "marketer", lambda s, u: create_activity(session=s, actor=u, data=ActivityInput(
        name="x", start_time=start, end_time=end)))
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(why)
    page.fill("#new-end", "2030-04-01 09:00")

    # with the browser's limit bypassed, the service still refuses a 61-character name, with its message
    page.evaluate("document.querySelector('#new-name').removeAttribute('maxlength')")
    page.fill("#new-name", "n" * 61)
    expect(page.locator("#new-name-count")).to_have_text("61/60")
    why = expected.refusal(db, "marketer", lambda s, u: create_activity(session=s, actor=u, data=ActivityInput(
        name="n" * 61)))
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(why)
    shot(page, "name-refused-by-service")
    assert not [r for r in expected.page(db, "marketer", search="n" * 61).rows]

    # a valid activity, in a group: created as a private Draft and opened on the canvas
    page.fill("#new-name", "Member Day reminder")
    page.click("#new-group")
    page.get_by_role("option", name="Loyalty", exact=True).click()
    shot(page, "filled")
    page.click("#new-submit")
    toast(page, "Created “Member Day reminder”")
    expect(page.locator("#canvas-name")).to_have_text("Member Day reminder")
    created = expected.activity(db, "Member Day reminder")
    assert (created.status, created.is_public, created.group_id) == (
        S.DRAFT, False, expected.group_id(db, "Loyalty"))
    assert created.description == "Two waves, SMS then app push"
    assert (created.start_time.replace(tzinfo=UTC), created.end_time.replace(tzinfo=UTC)) == (
        start, datetime(2030, 4, 1, 1, tzinfo=UTC))
    links = expected.call(db, "marketer", lambda s, _u: sorted(s.exec(
        select(ActivityCampaignLink.campaign_id).where(ActivityCampaignLink.activity_id == created.id)).all()))
    assert links == expected.sub_campaign_ids(db, "Member Day")
    back_to_list(page, app_server.url)
    expect(row(page, "Member Day reminder").locator(".status-badge")).to_have_text("Draft")
