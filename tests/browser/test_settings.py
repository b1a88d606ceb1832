"""Admin Settings in the browser over the demo data: the admin creates a user (generated password shown once)
who then signs in, changes a role and deactivates a user (whose sign-in is then refused); creates an API key
(shown once, then only its beginning; the API accepts it) and revokes it (refused); edits the workspace with its
errors in the form; a marketer has no Settings link and is refused at /settings/users."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import ApiKey, User, Workspace
from engine.services.api_keys import workspace_for_key
from engine.services.auth import verify_password
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in, sign_out, toast

pytestmark = pytest.mark.browser


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.info["writes"] = True  # committed here: a key's recorded use goes to this database
            yield session
            session.commit()
    finally:
        engine.dispose()


def _user(db: str, username: str) -> User | None:
    with _session(db) as s:
        return s.exec(select(User).where(User.username == username)).first()


def _sign_in_as(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def _open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/users")
    expect(page.locator("#users-table")).to_be_visible()


def test_admin_creates_a_user_who_signs_in_then_deactivates_them(app_server: RunningApp, page: Page,
                                                                  shot: Shot) -> None:
    db, base = app_server.database_url, app_server.url
    sign_in(page, base, "admin")
    _open_settings(page)
    expect(page.locator("#settings-tab-users")).to_have_css("background-color", re.compile(r"rgba?\("))
    expect(page.locator('.user-row[data-username="admin"]')).to_contain_text("You")
    shot(page, "users")

    page.click("#new-user")
    page.fill("#new-user-username", "two words")
    page.click("#new-user-submit")
    expect(page.locator("#settings-dialog-error")).to_contain_text("no spaces")
    page.fill("#new-user-username", "Admin")  # logins are unique whatever their case
    page.click("#new-user-submit")
    expect(page.locator("#settings-dialog-error")).to_contain_text("is taken")
    page.fill("#new-user-username", "nina")
    page.fill("#new-user-name", "Nina Newcomer")
    page.select_option("#new-user-role", "manager")
    shot(page, "new-user-dialog")
    page.click("#new-user-submit")
    password = page.locator("#shown-password-value").inner_text().strip()
    assert len(password) >= 12
    shot(page, "password-shown-once")
    page.click("#shown-password-done")
    expect(page.locator("#shown-password")).to_have_count(0)
    row = page.locator('.user-row[data-username="nina"]')
    expect(row).to_contain_text("Nina Newcomer")
    expect(row).to_contain_text("Never")
    stored = _user(db, "nina")
    assert stored is not None and stored.role == "manager" and verify_password(password, stored.password_hash)

    row.locator(".role-select").select_option("marketer")
    toast(page, "Role changed to Marketer")
    expect(row.locator(".role-select")).to_have_value("marketer")
    # the last active admin is kept: demoting the only admin is refused with the service's words
    page.locator('.user-row[data-username="admin"] .role-select').select_option("marketer")
    toast(page, "last active admin")
    expect(page.locator('.user-row[data-username="admin"] .role-select')).to_have_value("admin")
    shot(page, "last-admin-refused")
    sign_out(page)

    _sign_in_as(page, base, "nina", password)  # the new user signs in with the password shown once
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.locator("#user-name")).to_have_text("Nina Newcomer")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    sign_out(page)

    sign_in(page, base, "admin")
    _open_settings(page)
    expect(row).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))  # her last sign-in
    row.locator(".deactivate").click()
    toast(page, "User deactivated")
    expect(row.locator(".user-status")).to_have_text("Deactivated")
    shot(page, "deactivated")
    sign_out(page)
    _sign_in_as(page, base, "nina", password)
    expect(page.locator("#login-error")).to_contain_text("deactivated")


def test_admin_creates_and_revokes_an_api_key(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db, base = app_server.database_url, app_server.url
    sign_in(page, base, "admin")
    _open_settings(page)
    page.click("#settings-tab-keys")
    page.wait_for_url("**/settings/keys")
    expect(page.locator(".key-row")).to_have_count(1)  # the demo's key
    expect(page.locator("#api-docs-link")).to_have_attribute("href", re.compile(r"/docs$"))
    page.click("#new-key")
    page.click("#new-key-submit")
    expect(page.locator("#settings-dialog-error")).to_contain_text("Name the key")
    page.fill("#new-key-name", "Web shop events")
    page.click("#new-key-submit")
    key = page.locator("#new-key-shown-value").inner_text().strip()
    assert key.startswith("amk_") and len(key) > 40
    shot(page, "key-shown-once")
    page.click("#new-key-shown-done")
    expect(page.locator("#new-key-shown")).to_have_count(0)
    row = page.locator('.key-row[data-name="Web shop events"]')
    expect(row).to_contain_text(key[:12] + "…")
    expect(row.locator(".key-last-used")).to_have_text("Never")
    assert key not in page.content()  # only its beginning is on the page now
    with _session(db) as s:
        workspace = workspace_for_key(session=s, key=key)
        assert workspace is not None
        assert s.exec(select(ApiKey).where(ApiKey.name == "Web shop events")).one().last_used_at is not None
    page.reload()
    expect(row.locator(".key-last-used")).not_to_have_text("Never")
    shot(page, "keys")

    row.locator(".revoke-key").click()
    page.click("#revoke-key-confirm")
    toast(page, "revoked")
    expect(row.locator(".key-status")).to_contain_text("Revoked")
    expect(row.locator(".revoke-key")).to_have_count(0)
    with _session(db) as s:
        assert workspace_for_key(session=s, key=key) is None
    shot(page, "revoked")


def test_admin_edits_the_workspace(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db, base = app_server.database_url, app_server.url
    sign_in(page, base, "admin")
    page.goto(f"{base}/settings")  # the first tab
    page.wait_for_url("**/settings/users")
    page.click("#settings-tab-workspace")
    page.wait_for_url("**/settings/workspace")
    expect(page.locator("#workspace-time-zone")).to_have_value("Asia/Shanghai")
    page.fill("#workspace-time-zone", "Mars/Olympus")
    page.fill("#workspace-cap", "20")
    page.click("#workspace-save")
    expect(page.locator("#workspace-error")).to_contain_text("not an IANA time zone")
    shot(page, "workspace-error")
    page.fill("#workspace-time-zone", "Europe/Paris")
    page.fill("#workspace-cap", "0")
    page.click("#workspace-save")
    expect(page.locator("#workspace-error")).to_contain_text("from 1 to 1000")
    page.fill("#workspace-cap", "20")
    page.fill("#workspace-name", "Demo Retail EU")
    page.click("#workspace-save")
    toast(page, "Workspace settings saved")
    expect(page.locator("#workspace-error")).to_have_count(0)
    with _session(db) as s:
        admin = s.exec(select(User).where(User.username == "admin")).one()
        ws = s.get(Workspace, admin.workspace_id)
        assert (ws.name, ws.time_zone, ws.in_progress_cap) == ("Demo Retail EU", "Europe/Paris", 20)
    page.reload()
    expect(page.locator("#workspace-name")).to_have_value("Demo Retail EU")
    expect(page.locator("#workspace-cap")).to_have_value("20")
    shot(page, "workspace-saved")


def test_a_marketer_is_refused(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    for tab in ("users", "keys", "workspace"):
        page.goto(f"{app_server.url}/settings/{tab}")
        expect(page.locator("#settings-refused")).to_contain_text("Only an admin")
        expect(page.locator("#settings-nav")).to_have_count(0)
    expect(page.locator("#keys-table")).to_have_count(0)
    shot(page, "marketer-refused")
