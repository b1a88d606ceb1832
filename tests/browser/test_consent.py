"""Consent in the browser, on a real running engine (tests/browser/live.py): an admin opts a customer out of Text
SMS on their profile (the history records it); an activity then sends an SMS to that customer and four others, and
the canvas and the action analysis count one "Opted out" beside the sends — the provider never received it; a
marketer reads the consent without a control. Screenshots of each state."""


import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.canvas_ui import open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    audience_of,
    customers,
    edge,
    exec_bar,
    module_stack,
    node,
    publish,
    rounds,
    wait_until,
)
from tests.browser.live import LiveStack
from tests.browser.settle import animations_done
from tests.browser.ui import sign_in, sign_out

pytestmark = pytest.mark.browser


stack = module_stack(receipt_delay=0.2, settings={"SIMULATOR_SUCCESS_RATE": "1.0", "SIMULATOR_FAILURE_RATE": "0.0"})


def row(page: Page, channel: str) -> Locator:
    return page.locator(f'.consent-row[data-channel="{channel}"]')


def panel_for(page: Page, node_id: str) -> Locator:
    exec_bar(page, node_id).click()
    found = page.locator("#analysis-panel")
    expect(found).to_have_attribute("data-node", node_id)
    animations_done(found)
    return found


def test_admin_opts_out_and_the_round_counts_it(stack: LiveStack, page: Page, shot: Shot) -> None:
    people = [c for c in customers(40, offset=200) if c.phone][:5]
    target = people[0]
    sign_in(page, stack.url, "admin")
    page.goto(f"{stack.url}/customers/{target.id}")
    expect(page.locator("#page-title")).to_have_text(target.qaid)
    sms = row(page, "text_sms")
    expect(sms).to_have_attribute("data-status", "unknown")
    expect(page.locator(".consent-row")).to_have_count(6)
    page.locator("#profile-consent").scroll_into_view_if_needed()
    shot(page, "profile-before")

    sms.locator(".consent-select").click()
    page.get_by_role("option", name="Opted out").click()
    expect(sms).to_have_attribute("data-status", "opted_out")
    expect(sms).to_contain_text("Admin")  # the source
    expect(row(page, "email")).to_have_attribute("data-status", "unknown")
    page.locator("#consent-history summary").click()
    expect(page.locator(".consent-change")).to_have_count(1)
    expect(page.locator(".consent-change")).to_contain_text("Unknown (allowed) → Opted out")
    page.locator("#profile-consent").scroll_into_view_if_needed()
    shot(page, "profile-opted-out")

    flow = {"nodes": [node("t", "target_audience", 0, audience_id=audience_of("Consent five", people)),
                      node("sms", "text_sms", 300, content="Hi {name}"), node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}
    activity_id = publish("Consent: five SMS", flow, username="admin")
    wait_until(lambda: bool(rounds(activity_id)) and rounds(activity_id)[0].status == "completed", "the round")
    record_id = int(rounds(activity_id)[0].id)  # type: ignore[arg-type]
    received = httpx.get(f"{stack.env['PROVIDER_URL']}/admin/messages", params={"prefix": f"{record_id}:sms:",
                                                                                   "limit": 100}, timeout=10).json()
    mine = {int(m["customer_id"]) for m in received["messages"]}
    assert mine == {int(c.id) for c in people[1:]}  # type: ignore[arg-type]  (the opted-out one: never received)

    open_canvas(page, stack.url, activity_id, mode="details")
    bar = exec_bar(page, "sms")
    expect(bar).to_have_attribute("data-entered", "5")
    expect(bar).to_have_attribute("data-sent", "4")
    expect(bar).to_have_attribute("data-opted-out", "1")
    expect(bar.locator('[data-item="opted_out"] .fc-exec-value')).to_have_text("1")  # beside Failed
    assert "1 opted out of the channel" in (bar.get_attribute("title") or "")
    shot(page, "canvas-card")
    found = panel_for(page, "sms")
    chip = found.locator('.analysis-chip[data-key="result:opted_out"]')
    expect(chip).to_have_attribute("data-count", "1")
    expect(chip).to_contain_text("Opted out")
    chip.click()
    details = found.locator(".analysis-row")
    expect(details).to_have_count(1)
    expect(details).to_have_attribute("data-qaid", target.qaid)
    expect(details).to_contain_text("Opted out of Text SMS")
    shot(page, "analysis-opted-out")

    page.goto(f"{stack.url}/customers")  # the canvas has no sidebar (and so no sign-out)
    sign_out(page)
    sign_in(page, stack.url, "marketer")
    page.goto(f"{stack.url}/customers/{target.id}")
    expect(row(page, "text_sms")).to_have_attribute("data-status", "opted_out")
    expect(page.locator("#consent-readonly")).to_be_visible()
    expect(page.locator(".consent-select")).to_have_count(0)
    expect(row(page, "text_sms")).to_contain_text("Opted out")
    page.locator("#profile-consent").scroll_into_view_if_needed()
    shot(page, "profile-read-only")


def test_a_csv_import_maps_an_opt_out_column(stack: LiveStack, page: Page, shot: Shot) -> None:
    people = customers(2, offset=260)
    sign_in(page, stack.url, "admin")
    page.goto(f"{stack.url}/audiences/import")
    csv = f"qaid,No email\n{people[0].qaid},yes\n{people[1].qaid},no\n"
    page.locator("#csv-upload input[type=file]").set_input_files(
        files=[{"name": "newsletter.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    expect(page.locator(".column-row")).to_have_count(2)
    page.locator('.column-row[data-header="No email"] .column-target').click()
    page.get_by_role("option", name="Opt-out: Email").click()
    expect(page.locator('.column-row[data-header="No email"]')).to_have_attribute("data-target", "optout:email")
    shot(page, "mapping")
    page.click("#start-import")
    expect(page.locator("#import-done")).to_contain_text("2 members")
    for person, status, label in ((people[0], "opted_out", "Opted out"), (people[1], "opted_in", "Opted in")):
        page.goto(f"{stack.url}/customers/{person.id}")
        email = row(page, "email")
        expect(email).to_have_attribute("data-status", status)
        expect(email).to_contain_text("Import")
        expect(email.locator(".consent-select")).to_contain_text(label)
    page.locator("#profile-consent").scroll_into_view_if_needed()
    shot(page, "profile-imported")
