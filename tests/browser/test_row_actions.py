"""Row and batch actions in Chromium: Edit and Details open the (placeholder) canvas, Copy, Set/Cancel Public,
Move to group, Stop / Start / Delete behind confirmations, multi-select with Batch Stop, Batch Delete and Move —
enabled by the status machine, and every refusal (the in-progress cap, a status, a role) a toast with nothing
changed."""

import re

import pytest
from playwright.sync_api import Page, expect

from engine.services import activities as activity_service
from engine.services import versions as version_service
from engine.status import Action, ActivityStatus, why_not
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import (
    back_to_list,
    close_menu,
    dismiss_toasts,
    expect_tooltip,
    menu_action,
    open_more,
    row,
    sign_in,
    toast,
)

pytestmark = pytest.mark.browser
S = ActivityStatus


def show_all(page: Page) -> None:
    """Page size 50: every demo activity on one page, so rows can be picked by name."""
    page.click("#page-size")
    page.get_by_role("option", name="50", exact=True).click()
    expect(page.locator("#page-info")).to_have_text("Page 1 of 1")


def expect_status(page: Page, db: str, name: str, status: ActivityStatus) -> None:
    assert expected.activity(db, name).status == status
    expect(row(page, name).locator(".status-badge")).to_have_text(status.label)


def select(page: Page, *names: str) -> None:
    for name in names:
        row(page, name).locator(".row-check").click()
    expect(page.locator("#selected-count")).to_have_text(f"{len(names)} selected")


def test_edit_details_copy_public_and_move(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    show_all(page)

    # Edit opens the canvas on the activity's current version
    mine = expected.activity(db, "Dormant 90 days coupon")
    row(page, mine.name).locator('[data-action="edit"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{mine.id}/canvas\?mode=edit$"))
    expect(page.locator("#canvas-name")).to_have_text(mine.name)
    versions = expected.call(db, "marketer", lambda s, u: version_service.list_versions(
        session=s, actor=u, activity_id=mine.id))
    current = next(v for v in versions if v.is_current)
    expect(page.locator("#canvas-version")).to_have_text(f"V{current.number}")
    shot(page, "canvas-edit")
    back_to_list(page, app_server.url)
    expect(row(page, mine.name)).to_be_visible()

    # Details of someone else's public activity
    other = expected.activity(db, "Festival lucky draw")
    show_all(page)
    row(page, other.name).locator('[data-action="details"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{other.id}/canvas\?mode=details$"))
    expect(page.locator("#canvas-name")).to_have_text(other.name)
    page.go_back()
    expect(page.locator(".activity-row").first).to_be_visible()

    # Copy: "<name>-Copy", a private Draft of the copier, opened on the canvas
    show_all(page)
    row(page, other.name).locator('[data-action="copy"]').click()
    toast(page, f"Copied “{other.name}”")
    expect(page.locator("#canvas-name")).to_have_text(f"{other.name}-Copy")
    copy = expected.activity(db, f"{other.name}-Copy")
    assert (copy.status, copy.is_public, copy.owner_id) == (S.DRAFT, False, expected.activity(db, mine.name).owner_id)
    back_to_list(page, app_server.url)
    expect(row(page, copy.name).locator(".status-badge")).to_have_text("Draft")
    dismiss_toasts(page)

    # Set Public, then Cancel Public
    assert not mine.is_public
    menu_action(page, mine.name, "public")
    toast(page, "is now public")
    assert expected.activity(db, mine.name).is_public
    expect(open_more(page, mine.name).locator('[data-action="public"]')).to_have_text("Cancel Public")
    page.locator('.row-menu [data-action="public"]').click()
    toast(page, "is now private")
    assert not expected.activity(db, mine.name).is_public
    dismiss_toasts(page)

    # Move to group
    menu_action(page, mine.name, "move")
    expect(page.locator("#move-dialog")).to_be_visible()
    page.click("#move-target")
    page.get_by_role("option", name="Loyalty", exact=True).click()
    shot(page, "move-dialog")
    page.click("#move-save")
    toast(page, f"Moved “{mine.name}”.")
    assert expected.activity(db, mine.name).group_id == expected.group_id(db, "Loyalty")
    expect(row(page, mine.name).locator("td.col-group")).to_have_text("Loyalty")


def test_stop_start_delete_batches_and_refusals(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    show_all(page)

    # buttons follow the status machine; a disabled one says why
    running = "Birthday month coupon"
    menu = open_more(page, running)
    expect(menu.locator('[data-action="stop"]')).not_to_have_attribute("aria-disabled", "true")
    expect_tooltip(page, menu.locator('[data-action="delete"]'), why_not(S.IN_PROGRESS, Action.DELETE) or "")
    expect_tooltip(page, menu.locator('[data-action="start"]'), why_not(S.IN_PROGRESS, Action.START) or "")
    shot(page, "disabled-delete")
    close_menu(page)

    # Stop asks first; Cancel changes nothing
    name = "Churn-risk tag & email"
    menu_action(page, name, "stop")
    expect(page.locator("#confirm-dialog")).to_contain_text(name)
    shot(page, "confirm-stop")
    page.click("#confirm-cancel")
    expect_status(page, db, name, S.IN_PROGRESS)
    menu_action(page, name, "stop")
    page.click("#confirm-ok")
    toast(page, f"Stopped “{name}”.")
    expect_status(page, db, name, S.STOPPED)
    expect(page.locator("#status-stopped .count")).to_have_text(str(expected.counts(db, "marketer")["stopped"]))

    # Start again
    menu_action(page, name, "start")
    toast(page, f"Started “{name}”")
    expect_status(page, db, name, S.IN_PROGRESS)
    dismiss_toasts(page)

    # the in-progress cap refuses a start with the service's message, and nothing changes
    stopped = expected.activity(db, "Dormant 90 days coupon")
    running_now = expected.counts(db, "admin")["in_progress"]
    expected.arrange_cap(db, running_now)
    try:
        why = expected.refusal(db, "marketer", lambda s, u: activity_service.start(
            session=s, actor=u, activity_id=stopped.id))
        assert "in progress" in why
        menu_action(page, stopped.name, "start")
        toast(page, why, "error")
        shot(page, "cap-refused")
        expect_status(page, db, stopped.name, S.STOPPED)
    finally:
        expected.arrange_cap(db, 100)
    dismiss_toasts(page)

    # Delete asks first
    draft = "Back in stock alert"
    menu_action(page, draft, "delete")
    expect(page.locator("#confirm-dialog")).to_contain_text("cannot be undone")
    page.click("#confirm-ok")
    toast(page, f"Deleted “{draft}”.")
    expect(row(page, draft)).to_have_count(0)
    dismiss_toasts(page)

    # Batch Stop of two of one's own running activities
    second = "AB test: subject lines"
    select(page, running, second)
    shot(page, "selected")
    page.click('[data-batch="stop"]')
    page.click("#confirm-ok")
    toast(page, "Stopped 2 activities.")
    expect_status(page, db, running, S.STOPPED)
    expect_status(page, db, second, S.STOPPED)
    dismiss_toasts(page)

    # a forbidden status refuses the whole batch: nothing is deleted
    welcome = "Welcome SMS day 0"
    ids = [expected.activity(db, n).id for n in (running, welcome)]
    why = expected.refusal(db, "marketer", lambda s, u: activity_service.batch_delete(
        session=s, actor=u, activity_ids=ids))
    select(page, running, welcome)
    page.click('[data-batch="delete"]')
    page.click("#confirm-ok")
    toast(page, why, "error")
    expect(row(page, running)).to_be_visible()
    expect_status(page, db, welcome, S.IN_PROGRESS)
    page.click("#clear-selection")
    dismiss_toasts(page)

    # a forbidden role refuses the whole batch: someone else's running activity stops nothing
    others = "Review request after delivery"
    ids = [expected.activity(db, n).id for n in (welcome, others)]
    why = expected.refusal(db, "marketer", lambda s, u: activity_service.batch_stop(
        session=s, actor=u, activity_ids=ids))
    select(page, welcome, others)
    page.click('[data-batch="stop"]')
    page.click("#confirm-ok")
    toast(page, why, "error")
    shot(page, "role-refused")
    expect_status(page, db, welcome, S.IN_PROGRESS)
    expect_status(page, db, others, S.IN_PROGRESS)
    page.click("#clear-selection")
    dismiss_toasts(page)

    # Batch Move, then Batch Delete of the two stopped ones
    select(page, running, second)
    page.click('[data-batch="move"]')
    page.click("#move-target")
    page.get_by_role("option", name="Experiments", exact=True).click()
    page.click("#move-save")
    toast(page, "Moved 2 activities.")
    experiments = expected.group_id(db, "Experiments")
    assert {expected.activity(db, n).group_id for n in (running, second)} == {experiments}
    dismiss_toasts(page)
    select(page, running, second)
    page.click('[data-batch="delete"]')
    page.click("#confirm-ok")
    toast(page, "Deleted 2 activities.")
    expect(row(page, running)).to_have_count(0)
    expect(row(page, second)).to_have_count(0)
    expect(page.locator("#status-all .count")).to_have_text(str(expected.counts(db, "marketer")["total"]))
