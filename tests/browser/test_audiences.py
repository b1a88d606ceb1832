"""The Audiences pages in the browser over the demo data: the list (kinds, live sizes, used-by links to the
canvas, search, sorting by the headers and paging, each page the service's own), building a rule with a
behaviour-event condition and seeing the estimate and its sample change, a rule over membership of another
audience and a tag (the estimate the service's for each change), Delete refused for an audience a live activity
uses (the dialog names it), and roles: a manager reads only, a signed-out visitor is sent to the login, by the
nav and by URL."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import Audience, Customer, User
from engine.services import audiences as aud
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser


@contextmanager
def _session(database_url: str, *, commit: bool = False) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            if commit:
                session.commit()
    finally:
        engine.dispose()


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def estimated(db: str, rule: dict[str, Any]) -> int:
    with _session(db) as session:
        return aud.estimate_rule(session=session, actor=_user(session, "marketer"), rule=rule).size


def listed(db: str, **query: Any) -> list[str]:
    with _session(db) as session:
        return [r.name for r in aud.list_page(session=session, actor=_user(session, "marketer"),
                                              query=aud.AudienceQuery(**query)).rows]


def expect_names(page: Page, names: list[str]) -> None:
    expect(page.locator(".audience-row")).to_have_count(len(names))
    expect(page.locator(".audience-row").first).to_have_attribute("data-name", names[0])
    assert page.locator(".audience-row").evaluate_all("rs => rs.map(r => r.dataset.name)") == names


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
    cond.get_by_placeholder("event name").fill("purchase")
    estimate = page.locator("#estimate")
    expect(estimate).not_to_have_attribute("data-size", "")
    everyone = int(estimate.get_attribute("data-size") or "0")
    assert everyone > 0
    expect(page.locator(".sample-row").first).to_be_visible()
    cond.get_by_placeholder("N", exact=True).fill("3")
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


def test_import_a_csv_with_mapping_and_rejected_rows(app_server: RunningApp, page: Page, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/audiences")
    page.click("#import-csv")
    page.wait_for_url("**/audiences/import")
    bad = "User,Mail,Shoe size\nU9001,u9001@example.com,42\nU9002,not-an-email,40\nU9003,u9003@example.com\n"
    page.locator("#csv-upload input[type=file]").set_input_files(
        files=[{"name": "shoes.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    expect(page.locator(".column-row")).to_have_count(3)
    expect(page.locator('.column-row[data-header="Mail"]')).to_have_attribute("data-target", "attr:Mail")
    page.locator('.column-row[data-header="User"] .column-target').click()
    page.get_by_role("option", name="QAID (required)").click()
    page.locator('.column-row[data-header="Mail"] .column-target').click()
    page.get_by_role("option", name="Profile: email").click()
    expect(page.locator('.column-row[data-header="Mail"]')).to_have_attribute("data-target", "email")
    page.click("#start-import")
    expect(page.locator("#import-error")).to_contain_text("not imported")
    expect(page.locator(".rejected-row")).to_have_count(2)
    expect(page.locator('.rejected-row[data-line="3"]')).to_contain_text("email")
    expect(page.locator('.rejected-row[data-line="4"]')).to_contain_text("values")
    shot(page, "rejected")
    page.goto(f"{app_server.url}/audiences")
    expect(row(page, "shoes")).to_have_count(0)  # nothing half-imported
    page.goto(f"{app_server.url}/audiences/import")
    good = "User,Mail,Shoe size\nU9001,u9001@example.com,42\nU9003,u9003@example.com,44\n"
    page.locator("#csv-upload input[type=file]").set_input_files(
        files=[{"name": "shoes.csv", "mimeType": "text/csv", "buffer": good.encode()}])
    page.locator('.column-row[data-header="User"] .column-target').click()
    page.get_by_role("option", name="QAID (required)").click()
    page.click("#start-import")
    expect(page.locator("#import-done")).to_contain_text("2 members")
    shot(page, "imported")
    page.goto(f"{app_server.url}/audiences")
    expect(row(page, "shoes")).to_have_attribute("data-kind", "imported")
    expect(row(page, "shoes")).to_have_attribute("data-size", "2")


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
    page.goto(f"{app_server.url}/audiences/import")
    expect(page.locator("#read-only")).to_contain_text("read-only")
    page.goto(f"{app_server.url}/audiences/999999")
    expect(page.locator("#builder-error")).to_contain_text("not found")
    shot(page, "manager")


def test_a_membership_rule_and_the_list_sorted_and_paged(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    with _session(db, commit=True) as session:
        vip = session.exec(select(Audience).where(Audience.name == "VIP list")).one()
        ws = vip.workspace_id
        some = [c.id for c in session.exec(select(Customer).where(Customer.workspace_id == ws)
                                           .order_by(Customer.id).limit(6)).all()]
        for n in range(1, 7):  # more audiences than a page of 10 holds
            aud.create_static_audience(session=session, workspace_id=ws, name=f"Crowd probe {n}",
                                       customer_ids=some[:n], source="Generate Crowd: probe")
    in_vip = {"field": f"audience:{vip.id}", "op": "member", "value": True}
    gold = {"field": "tag:member_level", "op": "eq", "value": "gold"}

    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/audiences/new")
    page.fill("#audience-name", "Gold non-members")
    estimate = page.locator("#estimate")
    cond = page.locator(".rule-cond").first
    cond.locator(".cond-kind").click()
    page.get_by_role("option", name="Audience", exact=True).click()
    cond.locator(".cond-field").click()
    page.get_by_role("option", name="VIP list").click()
    expect(estimate).to_have_attribute("data-size", str(estimated(db, {"all": [in_vip]})))
    page.click("#add-condition")
    second = page.locator(".rule-cond").nth(1)
    second.get_by_placeholder("tag name").fill("member_level")
    second.get_by_placeholder("value").fill("gold")
    both = estimated(db, {"all": [in_vip, gold]})
    expect(estimate).to_have_attribute("data-size", str(both))
    cond.locator(".cond-op").click()
    page.get_by_role("option", name="is not in").click()
    outside = estimated(db, {"all": [{**in_vip, "value": False}, gold]})
    assert outside != both
    expect(estimate).to_have_attribute("data-size", str(outside))
    expect(page.locator(".sample-row").first).to_be_visible()
    shot(page, "membership-rule")
    page.click("#save-audience")
    page.wait_for_url(re.compile(r".*/audiences$"))
    expect(row(page, "Gold non-members")).to_have_attribute("data-size", str(outside))
    expect(row(page, "Crowd probe 3")).to_have_attribute("data-kind", "generated")

    # sorting by the headers and paging: each page is the service's
    page.click('[data-sort="name"]')
    expect_names(page, listed(db, sort="name", descending=False))
    page.click('[data-sort="name"]')
    expect_names(page, listed(db, sort="name", descending=True))
    page.click('[data-sort="kind"]')
    expect_names(page, listed(db, sort="kind", descending=False))
    page.click("#page-size")
    page.get_by_role("option", name="10", exact=True).click()
    expect_names(page, listed(db, sort="kind", descending=False, page_size=10))
    page.click("#next-page")
    expect(page.locator("#page-info")).to_have_text("Page 2 of 2")
    expect_names(page, listed(db, sort="kind", descending=False, page_size=10, page=2))
    shot(page, "sorted-page-2")
