"""What a first user trips over, in Chromium: a locked sign-in says how long to wait, the session cookie is
Secure behind HTTPS, times are typed as one 24-hour format in the workspace's zone with UTC shown, and group
names get the app's own message (a pasted long name is never cut)."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from engine.services import groups as group_service
from engine.services.local_time import format_message
from engine.services.login_throttle import MAX_USER_FAILURES, locked_message
from marketing_app.states.auth import COOKIE_NAME, SECURE_COOKIE_NAME
from tests.browser import expected
from tests.browser.conftest import UI_TIMEOUT_MS, RunningApp, Shot
from tests.browser.test_group_tree import group
from tests.browser.ui import PASSWORDS, sign_in, toast

pytestmark = pytest.mark.browser


def _try(page: Page, username: str, password: str) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def test_failed_sign_ins_lock_the_user_with_the_time_to_wait(app_server: RunningApp, page: Page,
                                                             shot: Shot) -> None:
    page.goto(f"{app_server.url}/login")
    wrong = expected.login_refusal(app_server.database_url, "manager", "guess")
    for i in range(MAX_USER_FAILURES):
        _try(page, "manager", f"guess-{i}")
        # each answer is a new render of the same text: wait for the button to be ready again
        expect(page.locator("#login-error")).to_have_text(wrong)
        expect(page.locator("#login-submit")).to_be_enabled()
    _try(page, "manager", PASSWORDS["manager"])  # the right password, too late
    expect(page.locator("#login-error")).to_have_text(locked_message(15))
    shot(page, "locked")
    assert re.search(r"/login/?$", page.url)
    # another user from the same address still signs in (the per-address limit is higher)
    sign_in(page, app_server.url, "marketer")


def _cookies(page: Page) -> dict[str, dict[str, object]]:
    return {c["name"]: dict(c) for c in page.context.cookies() if c.get("value")}


def test_the_session_cookie_is_secure_when_served_over_https(app_server: RunningApp, browser: Browser,
                                                             page: Page) -> None:
    sign_in(page, app_server.url, "marketer")  # plain HTTP: the plain cookie
    plain = _cookies(page)
    assert COOKIE_NAME in plain and SECURE_COOKIE_NAME not in plain
    assert plain[COOKIE_NAME]["secure"] is False and plain[COOKIE_NAME]["sameSite"] == "Strict"

    # behind a TLS-terminating proxy (X-Forwarded-Proto: https on the websocket handshake)
    context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        proxied = context.new_page()
        sign_in(proxied, app_server.url, "marketer")
        cookies = _cookies(proxied)
        assert SECURE_COOKIE_NAME in cookies and COOKIE_NAME not in cookies
        assert cookies[SECURE_COOKIE_NAME]["secure"] is True
        proxied.reload()  # the secure cookie alone keeps the session
        expect(proxied.locator("#user-name")).to_have_text(expected.display(app_server.database_url, "marketer")[0])
    finally:
        context.close()


def test_times_are_typed_24_hour_in_the_workspace_zone_with_utc_shown(app_server: RunningApp, page: Page,
                                                                      shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    page.click("#new-activity")
    expect(page.locator("#new-activity-dialog")).to_be_visible()
    expect(page.locator("#new-start-label")).to_have_text("Start time (Asia/Shanghai)")
    expect(page.locator("#new-start")).to_have_attribute("placeholder", "YYYY-MM-DD HH:MM")
    expect(page.locator("#new-start")).to_have_attribute("type", "text")
    page.fill("#new-name", "Evening flash sale")
    page.fill("#new-start", "2030-03-01 21:30")
    expect(page.locator("#new-start-utc")).to_have_text("= 2030-03-01 13:30 UTC")

    # the browser's 12-hour look, typed by habit: the app's message names the field
    page.fill("#new-end", "03/02/2030 9:30 PM")
    expect(page.locator("#new-end")).to_have_value("03/02/2030 9:30 PM")  # kept whole, refused on submit
    expect(page.locator("#new-end-utc")).to_have_text("YYYY-MM-DD HH:MM, 24-hour")
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(format_message("End time"))
    shot(page, "end-refused")

    page.fill("#new-end", "2030-03-02 23:00")
    expect(page.locator("#new-end-utc")).to_have_text("= 2030-03-02 15:00 UTC")
    expect(page.locator("#new-error")).to_have_count(0)
    shot(page, "times-filled")
    page.click("#new-submit")
    toast(page, "Created “Evening flash sale”")
    created = expected.activity(db, "Evening flash sale")
    assert (created.start_time.replace(tzinfo=UTC), created.end_time.replace(tzinfo=UTC)) == (
        datetime(2030, 3, 1, 13, 30, tzinfo=UTC), datetime(2030, 3, 2, 15, 0, tzinfo=UTC))


def test_group_names_get_the_apps_message_and_are_never_cut(app_server: RunningApp, page: Page,
                                                            shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    long_name = "Spring campaigns for returning members in the north"  # pasted: 51 characters
    why_long = expected.refusal(db, "marketer", lambda s, u: group_service.create_group(
        session=s, actor=u, name=long_name))
    why_empty = expected.refusal(db, "marketer", lambda s, u: group_service.create_group(
        session=s, actor=u, name=""))
    assert "(this one has 51)" in why_long

    page.hover("#group-all")
    page.click("#add-top-group")
    expect(page.locator("#add-group-dialog")).to_be_visible()
    page.locator("#group-name").focus()
    page.keyboard.insert_text(long_name)  # as a paste does
    expect(page.locator("#group-name")).to_have_value(long_name)  # nothing cut
    page.click("#add-group-submit")
    expect(page.locator("#add-group-error")).to_have_text(why_long)
    shot(page, "long-name-refused")

    for name in ("", "     "):  # empty and spaces only: the same message from the app, no browser bubble
        page.fill("#group-name", name)
        page.click("#add-group-submit")
        expect(page.locator("#add-group-error")).to_have_text(why_empty)
    shot(page, "empty-name-refused")
    assert not [n for n in expected.tree(db, "marketer") if n.name.startswith("Spring campaigns")]
    page.keyboard.press("Escape")

    # rename to nothing: the same message
    group(page, "Experiments").hover()
    group(page, "Experiments").locator(".tree-more").click()
    page.locator(".tree-rename").click()
    page.fill("#rename-name", "")
    page.click("#rename-group-submit")
    expect(page.locator("#rename-group-error")).to_have_text(why_empty)
    expect(page.locator("#rename-name")).to_be_visible()
    shot(page, "rename-empty-refused")
    assert re.search(r"\bExperiments\b", " ".join(n.name for n in expected.tree(db, "marketer")))
