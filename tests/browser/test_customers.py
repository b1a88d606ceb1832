"""The Customers pages in the browser over the demo data: the nav link, search (QAID, name, phone) with the
service's own answers, paging, a profile with its round, route and message, the phone masked for a marketer
(who cannot edit), and an admin who sees the whole number, adds and removes a tag, and deletes the customer."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine import clock
from engine.db import make_engine
from engine.models import Activity, ActivityVersion, Customer, CustomerRoute, CustomerStep, ExecutionRecord, User
from engine.services.customers import CustomerPage, CustomerProfile, customer_profile, search_customers
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


def served(db: str, username: str, **query) -> CustomerPage:  # noqa: ANN003
    with _session(db) as session:
        actor = session.exec(select(User).where(User.username == username)).one()
        return search_customers(session=session, actor=actor, **query)


def profile(db: str, username: str, customer_id: int) -> CustomerProfile:
    with _session(db) as session:
        actor = session.exec(select(User).where(User.username == username)).one()
        return customer_profile(session=session, actor=actor, customer_id=customer_id)


def arrange_round(db: str, customer_id: int) -> tuple[str, int]:
    """Give the customer a passage through a public demo round (Target Audience → Text SMS → End) that ended an
    hour ago: its route row and its SMS's step row, as a walk writes them. Returns (activity name, round)."""
    with _session(db, commit=True) as session:
        rounds = session.exec(
            select(ExecutionRecord, Activity, ActivityVersion)
            .join(Activity, Activity.id == ExecutionRecord.activity_id)
            .join(ActivityVersion, ActivityVersion.id == ExecutionRecord.version_id)
            .where(Activity.is_public).order_by(ExecutionRecord.id)).all()
        sms = ["target_audience", "text_sms", "end"]
        record, activity, _version = next(r for r in rounds if [n["type"] for n in r[2].flow["nodes"]] == sms)
        if record.ended_at is not None:
            record.ended_at = clock.now() - timedelta(hours=1)
            session.add(record)
        session.add(CustomerRoute(record_id=record.id, customer_id=customer_id, start_node="n1",
                                  route='{"n1":"out","n3":""}'))
        session.add(CustomerStep(record_id=record.id, node_id="n2", customer_id=customer_id, branch="out",
                                 result="success"))
        return activity.name, record.number


def qaids(page: Page) -> list[str]:
    return page.locator(".customer-row").evaluate_all("rs => rs.map(r => r.dataset.qaid)")


def expect_rows(page: Page, data: CustomerPage) -> None:
    expect(page.locator(".customer-row")).to_have_count(len(data.rows))
    if data.rows:  # wait for the new page, not only the same number of rows
        expect(page.locator(".customer-row").first).to_have_attribute("data-qaid", data.rows[0].qaid)
        expect(page.locator(".customer-row").last).to_have_attribute("data-qaid", data.rows[-1].qaid)
    assert qaids(page) == [r.qaid for r in data.rows]


def search(page: Page, term: str) -> None:
    page.fill("#customer-search", term)
    page.press("#customer-search", "Enter")
    expect(page.locator("#clear-search")).to_be_visible()  # the page's query is now a search


def test_search_and_a_marketers_masked_read_only_profile(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    everyone = served(db, "marketer")
    target = next(r for r in served(db, "admin", page_size=100).rows if r.phone and r.email and r.name)
    activity_name, number = arrange_round(db, target.id)

    sign_in(page, app_server.url, "marketer")
    page.get_by_role("link", name="Customers").click()
    page.wait_for_url("**/customers")
    expect(page.locator("#page-title")).to_have_text("Customers")
    expect_rows(page, everyone)
    expect(page.locator("#total-count")).to_have_text(f"Total {everyone.total:,}")
    assert all(p.startswith("•••• ") or p == "—" for p in page.locator('[data-col="phone"]').all_inner_texts())
    shot(page, "customers")

    page.click("#next-page")
    expect(page.locator("#page-info")).to_have_text(f"Page 2 of {everyone.pages}")
    expect_rows(page, served(db, "marketer", page=2))
    page.click('[data-sort="created_at"]')
    expect_rows(page, served(db, "marketer", sort="created_at", descending=True))
    page.click('[data-sort="qaid"]')  # back to the QAID order the searches below compare with
    expect_rows(page, everyone)

    search(page, target.qaid[:-1])  # a QAID prefix
    expect_rows(page, served(db, "marketer", query=target.qaid[:-1]))
    assert target.qaid in qaids(page)
    search(page, target.name.split()[0].lower())  # a name prefix, any case
    found = served(db, "marketer", query=target.name.split()[0].lower())
    assert found.total > 0
    expect_rows(page, found)
    search(page, "no customer begins like this")
    expect(page.locator("#customers-empty")).to_contain_text("No customer's QAID")
    shot(page, "no-match")
    search(page, target.qaid)
    expect_rows(page, served(db, "marketer", query=target.qaid))

    page.locator(f'.customer-row[data-qaid="{target.qaid}"] a').click()
    page.wait_for_url(f"**/customers/{target.id}")
    expect(page.locator("#page-title")).to_have_text(target.qaid)
    expect(page.locator("#customer-phone")).to_have_text("•••• " + target.phone[-4:])
    expect(page.locator("#profile-contact")).to_contain_text("Only admins see the whole number.")
    expect(page.locator("#customer-email")).to_have_text(target.email)
    expect(page.locator("#consent-note")).to_contain_text("Unknown means allowed")
    expect(page.locator('.consent-row[data-channel="text_sms"]')).to_have_attribute("data-reachable", "1")
    seen = profile(db, "marketer", target.id)
    expect(page.locator(".tag-badge")).to_have_count(len(seen.tags))
    expect(page.locator(".attribute-row")).to_have_count(len(seen.attributes))
    expect(page.locator(".event-row")).to_have_count(len(seen.events))
    entry = page.locator(".entry-row")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(activity_name)
    expect(entry).to_contain_text(f"#{number}")
    expect(entry).to_contain_text("Target Audience (n1) → Text SMS (n2) → End (n3)")
    expect(entry).to_have_attribute("data-status", "success")
    message = page.locator(".message-row")
    expect(message).to_have_count(1)
    expect(message).to_contain_text("Text SMS")
    expect(message).to_contain_text("Succeeded")
    # a marketer reads only: the edit buttons are greyed out with the service's message
    expect(page.locator('[data-action="add-tag"]')).to_be_disabled()
    expect(page.locator('[data-action="delete"]')).to_be_disabled()
    page.locator('[data-action="add-tag"]').locator("..").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("Only an admin")
    shot(page, "marketer-profile", full=True)


def test_an_admin_edits_a_tag_and_deletes_the_customer(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    target = next(r for r in served(db, "admin", page_size=100, sort="created_at", descending=True).rows
                  if r.phone)
    sign_in(page, app_server.url, "admin")
    page.goto(f"{app_server.url}/customers?q={target.qaid}")
    expect_rows(page, served(db, "admin", query=target.qaid))
    expect(page.locator(f'.customer-row[data-qaid="{target.qaid}"] [data-col="phone"]')).to_have_text(target.phone)
    page.locator(f'.customer-row[data-qaid="{target.qaid}"] a').click()
    page.wait_for_url(f"**/customers/{target.id}")
    expect(page.locator("#customer-phone")).to_have_text(target.phone)

    # add a tag, then change it, then remove it: each time the page shows what the engine stored
    page.click('[data-action="add-tag"]')
    page.fill("#tag-name", "support case")
    page.fill("#tag-value", "open")
    shot(page, "tag-dialog")
    page.click("#tag-save")
    expect(page.locator('.tag-badge[data-tag="support case"]')).to_have_attribute("data-value", "open")
    assert ("support case", "open") in [(t.tag, t.value) for t in profile(db, "admin", target.id).tags]
    page.click('[data-action="add-tag"]')
    page.fill("#tag-name", " ")
    page.click("#tag-save")
    expect(page.locator("#dialog-error")).to_contain_text("A tag name is empty")
    page.fill("#tag-name", "support case")
    page.fill("#tag-value", "closed")
    page.click("#tag-save")
    expect(page.locator('.tag-badge[data-tag="support case"]')).to_have_attribute("data-value", "closed")
    page.click('[data-action="add-attribute"]')
    page.fill("#attribute-name", "ticket")
    page.fill("#attribute-value", "4711")
    page.click("#attribute-save")
    expect(page.locator('.attribute-row[data-name="ticket"]')).to_contain_text("4711")
    assert profile(db, "admin", target.id).attributes["ticket"] == 4711
    shot(page, "admin-profile-edited", full=True)
    page.locator('.tag-badge[data-tag="support case"] .tag-remove').click()
    expect(page.locator('.tag-badge[data-tag="support case"]')).to_have_count(0)

    # delete: the QAID must be typed; then the customer is gone and the list says so
    page.click('[data-action="delete"]')
    page.fill("#delete-confirm", "not the qaid")
    page.click("#delete-ok")
    expect(page.locator("#dialog-error")).to_contain_text(target.qaid)
    page.fill("#delete-confirm", target.qaid)
    shot(page, "delete-dialog")
    page.click("#delete-ok")
    page.wait_for_url("**/customers")
    expect(page.get_by_text(f"Customer {target.qaid} deleted")).to_be_visible()
    with _session(db) as session:
        assert session.get(Customer, target.id) is None
    # the list page's load (query reset) has run: every customer's first page, not the search that found the
    # deleted one (an absent "clear search" alone was not proof: a search typed before the load was undone by it)
    everyone = served(db, "admin")
    expect_rows(page, everyone)
    expect(page.locator("#total-count")).to_have_text(f"Total {everyone.total:,}")
    expect(page.locator("#clear-search")).to_have_count(0)
    search(page, target.qaid)
    expect(page.locator("#customers-empty")).to_be_visible()
    page.goto(f"{app_server.url}/customers/{target.id}")
    expect(page.locator("#customer-error")).to_contain_text("Customer not found.")
    shot(page, "deleted")
