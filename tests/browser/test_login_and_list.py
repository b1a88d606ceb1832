"""Log in through the real app in Chromium and read the Automated Marketing list."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import expect_rows

pytestmark = pytest.mark.browser

#: filters tried for "click a count": the first one with rows but not all rows is used
FILTER_KEYS = ["in_progress", "not_started", "stopped", "finished", "draft"]


def sign_in(page: Page, username: str, password: str) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def test_marketer_logs_in_sees_list_and_filters(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    page.goto(f"{app_server.url}/")
    page.wait_for_url("**/login")  # the guard sends a visitor without a session to the login page

    sign_in(page, "marketer", "not-the-password")
    expect(page.locator("#login-error")).to_have_text(expected.login_refusal(db, "marketer", "not-the-password"))
    shot(page, "login-wrong-password")

    sign_in(page, "marketer", "marketer123")
    page.wait_for_url(re.compile(r".*/$"))
    name, role = expected.display(db, "marketer")
    expect(page.locator("#user-name")).to_have_text(name)
    expect(page.locator("#user-role")).to_have_text(role.title())
    first = expected.page(db, "marketer")
    assert first.rows, "the demo data must give the marketer something to see"
    expect_rows(page, first)
    counts = expected.counts(db, "marketer")
    expect(page.locator("#status-all .count")).to_have_text(str(counts["total"]))
    # no approval required (the demo workspace): no Approval column of N/As, and the default columns fit the
    # 1440-pixel window beside the group tree — Updated is not hidden under the pinned Actions
    expect(page.locator("#approval-setting")).to_have_text("No approval needed")
    expect(page.locator("th.col-approval")).to_be_hidden()
    expect(page.locator("#approval-filter")).to_have_count(0)  # nor its filter
    expect(page.locator("th.col-updated_at")).to_be_visible()
    overflow = page.evaluate("() => { const s = document.querySelector('#activity-table').parentElement; "
                             "return s.scrollWidth - s.clientWidth; }")
    assert overflow <= 0, f"the list scrolls sideways by {overflow} px at 1440 px"
    shot(page, "list")

    key = next(k for k in FILTER_KEYS if 0 < counts[k] < counts["total"])
    page.click(f"#status-{key}")
    expect(page.locator(f"#status-{key}")).to_have_class(re.compile(r"\bactive\b"))
    expect_rows(page, expected.page(db, "marketer", status=key))
    shot(page, f"filtered-{key}")

    page.click(f"#status-{key}")  # clicking the active count again clears the filter
    expect_rows(page, first)
    if first.total > first.page_size:
        page.click("#next-page")
        expect_rows(page, expected.page(db, "marketer", number=2))
        shot(page, "page-2")

    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(f"{app_server.url}/")
    page.wait_for_url("**/login")  # the old session no longer opens the console

    sign_in(page, "manager", "manager123")  # the next user of this tab sees their own list, unfiltered
    expect(page.locator("#user-name")).to_have_text(expected.display(db, "manager")[0])
    expect_rows(page, expected.page(db, "manager"))


def test_manager_logs_in_and_sees_the_list(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    page.goto(f"{app_server.url}/login")
    sign_in(page, "manager", "manager123")
    name, role = expected.display(db, "manager")
    expect(page.locator("#user-name")).to_have_text(name)
    expect(page.locator("#user-role")).to_have_text(role.title())
    expect_rows(page, expected.page(db, "manager"))
    shot(page, "manager-list")
