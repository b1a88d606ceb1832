"""The Audiences pages in the browser over the demo data: the list (kinds, live sizes, used-by links to the
canvas, search), building a rule with a behaviour-event condition and seeing the estimate and its sample
change, Delete refused for an audience a live activity uses (the dialog names it), and roles: a manager reads
only, a signed-out visitor is sent to the login, by the nav and by URL."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser


def row(page: Page, name: str):  # noqa: ANN201 — a Locator
    return page.locator(f'.audience-row[data-name="{name}"]')


def test_list_shows_kinds_sizes_and_used_by(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    page.get_by_role("link", name="Audiences").click()
    page.wait_for_url("**/audiences")
    expect(row(page, "All members")).to_have_attribute("data-kind", "rule")
    expect(row(page, "VIP list")).to_have_attribute("data-kind", "imported")
    assert int(row(page, "All members").get_attribute("data-size") or "0") > 0
    expect(row(page, "All members").locator("[data-col=size]")).to_contain_text("counted")
    used = row(page, "All members").locator(".used-link").first
    expect(used).to_be_visible()
    href = used.get_attribute("href") or ""
    assert re.fullmatch(r"/activities/\d+/canvas", href), href
    shot(page, "list")
    page.fill("#audience-search", "vip")
    page.press("#audience-search", "Enter")
    expect(page.locator(".audience-row")).to_have_count(1)
    expect(row(page, "VIP list")).to_be_visible()


def test_build_a_rule_and_see_the_estimate(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/audiences")
    page.click("#new-audience")
    page.wait_for_url("**/audiences/new")
    page.fill("#audience-name", "Recent buyers")
    cond = page.locator(".rule-cond").first
    cond.locator(".cond-kind").click()
    page.get_by_role("option", name="Behaviour event").click()
    cond.locator("input.cond-field").fill("purchase")
    estimate = page.locator("#estimate")
    expect(estimate).not_to_have_attribute("data-size", "")
    everyone = int(estimate.get_attribute("data-size") or "0")
    assert everyone > 0
    expect(page.locator(".sample-row").first).to_be_visible()
    cond.locator("input.cond-times").fill("3")
    expect(estimate).not_to_have_attribute("data-size", str(everyone))
    fewer = int(estimate.get_attribute("data-size") or "0")
    assert fewer < everyone
    shot(page, "builder")
    page.click("#save-audience")
    page.wait_for_url(re.compile(r".*/audiences$"))
    expect(row(page, "Recent buyers")).to_have_attribute("data-size", str(fewer))
    shot(page, "saved")


def test_delete_refused_while_a_live_activity_uses_it(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "admin")
    page.goto(f"{app_server.url}/audiences")
    row(page, "All members").locator(".delete").click()
    page.click("#confirm-delete")
    expect(page.locator("#delete-error")).to_contain_text("cannot be deleted while it is used by")
    expect(page.locator("#delete-error")).to_contain_text("(In Progress)")
    shot(page, "delete-refused")
    page.click("#cancel-delete")
    expect(row(page, "All members")).to_be_visible()


def test_roles_and_urls(app_server: RunningApp, page: Page, shot: Shot) -> None:
    page.goto(f"{app_server.url}/audiences")
    page.wait_for_url("**/login**")
    page.goto(f"{app_server.url}/audiences/new")
    page.wait_for_url("**/login**")
    sign_in(page, app_server.url, "manager")
    page.goto(f"{app_server.url}/audiences")
    expect(page.locator("#read-only")).to_be_visible()
    expect(row(page, "All members")).to_be_visible()
    expect(page.locator(".audience-row .delete")).to_have_count(0)
    expect(page.locator("#new-audience")).to_have_count(0)
    page.goto(f"{app_server.url}/audiences/new")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#save-audience")).to_have_count(0)
    page.goto(f"{app_server.url}/audiences/999999")
    expect(page.locator("#builder-error")).to_contain_text("not found")
    shot(page, "manager")
