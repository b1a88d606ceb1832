"""The Automated Marketing list in Chromium: status bar within the selected group, name search on Enter, the
sub-activity filter, sorting, paging, Show Columns remembered per user, and what each role sees and may do."""

import re

import pytest
from playwright.sync_api import Page, expect

from engine.permissions import role_refusal
from engine.status import Action
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import expect_rows, expect_tooltip, open_more, row, search, sign_in, sign_out

pytestmark = pytest.mark.browser

STATUS_KEYS = ["in_progress", "not_started", "stopped", "finished", "draft"]


def expect_counts(page: Page, counts: dict[str, int]) -> None:
    expect(page.locator("#status-all .count")).to_have_text(str(counts["total"]))
    for key in STATUS_KEYS:
        expect(page.locator(f"#status-{key} .count")).to_have_text(str(counts[key]))


def test_status_bar_group_search_campaigns_sort_and_paging(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "admin")
    expect_counts(page, expected.counts(db, "admin"))
    expect_rows(page, expected.page(db, "admin"))
    shot(page, "admin-list")

    # a group narrows the counts and the list to its subtree
    festivals = expected.group_id(db, "Festivals")
    page.click('[data-group="Festivals"]')
    expect(page.locator("#group-chip")).to_contain_text("Festivals")
    expect_counts(page, expected.counts(db, "admin", group_id=festivals))
    expect_rows(page, expected.page(db, "admin", group_id=festivals))

    # a status within the group, then a name search within both (only on Enter)
    page.click("#status-finished")
    expect(page.locator("#status-finished")).to_have_class(re.compile(r"\bactive\b"))
    expect_rows(page, expected.page(db, "admin", "finished", group_id=festivals))
    page.fill("#activity-search", "618")
    expect_rows(page, expected.page(db, "admin", "finished", group_id=festivals))  # typing alone does nothing
    page.press("#activity-search", "Enter")
    found = expected.page(db, "admin", "finished", group_id=festivals, search="618")
    assert 0 < found.total < expected.page(db, "admin", "finished", group_id=festivals).total
    expect_rows(page, found)
    shot(page, "group-status-search")
    search(page, "no activity is called this")
    expect(page.locator("#activities-empty")).to_contain_text("No activities match")
    shot(page, "empty-search")
    page.click("#clear-search")
    page.click("#clear-group")
    page.click("#status-finished")
    expect_counts(page, expected.counts(db, "admin"))
    expect_rows(page, expected.page(db, "admin"))

    # sub-activity filter: a primary campaign selects all its subs; works within a status
    d11 = expected.sub_campaign_ids(db, "Double 11 2026")
    page.click("#campaign-filter")
    page.click('[data-primary="Double 11 2026"]')
    for sub in ("D11 Warm-up", "D11 Main Day", "D11 Return Visit"):
        expect(page.locator(f'[data-sub="{sub}"] button[role="checkbox"]')).to_have_attribute("data-state", "checked")
    expect_rows(page, expected.page(db, "admin", campaign_ids=d11))
    shot(page, "campaign-filter")
    page.click('[data-sub="D11 Main Day"]')
    rest = [i for i in d11 if i != expected.campaign_id(db, "D11 Main Day")]
    expect(page.locator('[data-primary="Double 11 2026"] button[role="checkbox"]')).to_have_attribute(
        "data-state", "unchecked")
    expect_rows(page, expected.page(db, "admin", campaign_ids=rest))
    page.keyboard.press("Escape")
    expect(page.locator("#campaign-filter")).to_contain_text("+1")
    key = next(k for k in STATUS_KEYS if expected.page(db, "admin", k, campaign_ids=rest).total)
    page.click(f"#status-{key}")
    expect_rows(page, expected.page(db, "admin", key, campaign_ids=rest))
    page.click(f"#status-{key}")
    page.click("#campaign-filter")
    page.click("#campaign-filter-clear")
    page.keyboard.press("Escape")
    expect_rows(page, expected.page(db, "admin"))

    # sortable columns: name ascending, then descending; back to the newest changes
    page.click('[data-sort="name"]')
    expect(page.locator("th.col-name")).to_have_attribute("aria-sort", "ascending")
    expect_rows(page, expected.page(db, "admin", sort="name", descending=False))
    page.click('[data-sort="name"]')
    expect_rows(page, expected.page(db, "admin", sort="name", descending=True))
    page.click('[data-sort="status"]')
    expect_rows(page, expected.page(db, "admin", sort="status", descending=False))
    page.click('[data-sort="updated_at"]')
    expect_rows(page, expected.page(db, "admin"))

    # paging: page size, next, a page number, previous
    page.click("#page-size")
    page.get_by_role("option", name="10", exact=True).click()
    expect_rows(page, expected.page(db, "admin", page_size=10))
    page.click("#next-page")
    expect_rows(page, expected.page(db, "admin", number=2, page_size=10))
    last = expected.page(db, "admin", page_size=10).pages
    page.locator(".page-number", has_text=re.compile(rf"^{last}$")).click()
    expect_rows(page, expected.page(db, "admin", number=last, page_size=10))
    shot(page, "last-page")
    page.click("#prev-page")
    expect_rows(page, expected.page(db, "admin", number=last - 1, page_size=10))


def test_show_columns_is_remembered_per_user(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    expect(page.locator("th.col-group")).to_be_visible()
    expect(page.locator("th.col-campaigns")).to_be_hidden()
    page.click("#show-columns")
    page.click('[data-column="group"]')
    page.click('[data-column="campaigns"]')
    page.click('[data-column="version"]')
    page.keyboard.press("Escape")
    expect(page.locator("th.col-group")).to_be_hidden()
    expect(page.locator("th.col-campaigns")).to_be_visible()
    expect(page.locator("th.col-version")).to_be_visible()
    first = expected.page(app_server.database_url, "marketer").rows[0]
    expect(row(page, first.name).locator("td.col-version")).to_have_text(f"V{first.version_number}")
    shot(page, "columns-chosen")

    sign_out(page)
    sign_in(page, app_server.url, "marketer2")  # another user keeps the default columns
    expect(page.locator("th.col-group")).to_be_visible()
    expect(page.locator("th.col-campaigns")).to_be_hidden()
    sign_out(page)
    sign_in(page, app_server.url, "marketer")  # and the first user gets theirs back
    expect(page.locator("th.col-group")).to_be_hidden()
    expect(page.locator("th.col-campaigns")).to_be_visible()


def test_roles_see_and_may_do_what_the_engine_allows(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    # a marketer sees public activities and their own: another marketer's private one is not there
    sign_in(page, app_server.url, "marketer")
    hidden = expected.activity(db, "Double 11 return visit")
    assert not hidden.is_public
    search(page, "Double 11")
    found = expected.page(db, "marketer", search="Double 11")
    expect_rows(page, found)
    assert hidden.name not in [r.name for r in found.rows]
    assert expected.counts(db, "marketer")["total"] < expected.counts(db, "admin")["total"]
    expect(page.locator("#status-all .count")).to_have_text(str(expected.counts(db, "marketer")["total"]))
    # on someone else's public activity a marketer may copy but not edit
    page.click("#clear-search")
    mine = expected.display(db, "marketer")[0]
    other = next(r for r in expected.page(db, "marketer").rows if r.owner_name != mine)
    expect_tooltip(page, row(page, other.name).locator('.tip-wrap:has([data-action="edit"])'),
                   "Only the activity's creator or an admin can do this.")
    expect(row(page, other.name).locator('[data-action="copy"]')).to_be_enabled()
    sign_out(page)

    # a manager reads everything they may see and changes nothing; every disabled control says why
    sign_in(page, app_server.url, "manager")
    manager = expected.page(db, "manager")
    expect_rows(page, manager)
    expect(page.locator("#read-only-badge")).to_be_visible()
    reason = expected.call(db, "manager", lambda _s, u: role_refusal(u, None, Action.EDIT))
    assert reason
    expect(page.locator("#new-activity")).to_be_disabled()
    expect_tooltip(page, page.locator('.tip-wrap:has(#new-activity)'), reason)
    first = manager.rows[0].name
    expect_tooltip(page, row(page, first).locator('.tip-wrap:has([data-action="edit"])'), reason)
    expect_tooltip(page, row(page, first).locator('.tip-wrap:has([data-action="copy"])'), reason)
    expect(row(page, first).locator('[data-action="details"]')).to_be_enabled()
    menu = open_more(page, first)
    for action in ("stop", "start", "delete", "public", "move"):
        expect(menu.locator(f'[data-action="{action}"]')).to_have_attribute("aria-disabled", "true")
    expect_tooltip(page, menu.locator('[data-action="delete"]'), reason)
    shot(page, "manager-menu")
    running = next(r for r in manager.rows if r.status == "in_progress")
    page.keyboard.press("Escape")
    # the drawers read fine; their buttons say why a manager cannot use them
    open_more(page, running.name).locator('[data-action="records"]').click()
    live = page.locator("#records-drawer .record-row").filter(
        has=page.locator(".record-status", has_text="In Progress")).first
    expect_tooltip(page, live.locator('.tip-wrap:has([data-action="stop"])'), reason)
    page.click("#records-drawer-close")
    page.locator("#select-page").click()  # the whole page can be selected, yet not changed
    expect(page.locator("#selected-count")).to_have_text(f"{len(manager.rows)} selected")
    page.locator("#select-page").click()
    expect(page.locator("#selected-count")).to_have_count(0)
    page.locator(".activity-row .row-check").first.click()
    expect(page.locator('[data-batch="stop"]')).to_be_disabled()
    expect_tooltip(page, page.locator('.tip-wrap:has([data-batch="delete"])'), reason)
    page.hover('[data-group="Festivals"]')
    expect(page.locator(".tree-add")).to_have_count(0)
    expect(page.locator("#add-top-group")).to_have_count(0)
    shot(page, "manager-read-only")
    row(page, first).locator('[data-action="details"]').click()
    expect(page.locator("#canvas-name")).to_have_text(first)
