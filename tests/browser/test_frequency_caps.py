"""Frequency caps (issue 16) in the browser, on a running engine (tests/browser/live.py: the app, a Dramatiq worker,
the scheduler and the provider simulator): an admin adds a cap in Settings → Frequency caps (a bad number is
refused in the dialog, with the engine's words), edits it and deletes another; a marketer marks a new activity
Transactional in its dialog; two SMS rounds to the same customers run, and the second one's canvas card and
action analysis show "capped" beside failed / succeeded, with the rule as the reason."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from engine import db
from engine.models import Activity
from engine.runtime.caps import RULES_TTL
from engine.status import RecordStatus
from marketing_app.views.cap_exempt_field import LABEL
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
from tests.browser.ui import dismiss_toasts, sign_in, sign_out, toast

pytestmark = pytest.mark.browser
PEOPLE = 8


stack = module_stack(settings={"SIMULATOR_SUCCESS_RATE": "1.0", "SIMULATOR_FAILURE_RATE": "0.0"})


def sms_flow(audience_id: int) -> dict:
    return {"nodes": [node("t", "target_audience", 0, audience_id=audience_id),
                      node("sms", "text_sms", 300, content="Hi {name}, our weekly offer"), node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}


def _exempt(name: str) -> list[bool]:
    with db.read_session() as session:
        return list(session.exec(select(Activity.cap_exempt).where(Activity.name == name)).all())


def _fill_cap(page: Page, channel: str, most: str, days: str) -> None:
    dialog = page.locator("#cap-dialog")
    expect(dialog).to_be_visible()
    page.select_option("#cap-channel", channel)
    page.fill("#cap-most", most)
    page.fill("#cap-days", days)
    page.click("#cap-submit")


def test_an_admin_caps_sms_and_the_second_round_is_capped(stack: LiveStack, page: Page, shot: Shot) -> None:
    base = stack.url
    sign_in(page, base, "admin")
    page.goto(f"{base}/settings/users")
    page.click("#settings-tab-caps")
    page.wait_for_url("**/settings/caps")
    expect(page.locator("#caps-empty")).to_be_visible()

    # a bad number: the engine's refusal in the dialog, nothing saved
    page.click("#new-cap")
    _fill_cap(page, "text_sms", "0", "7")
    expect(page.locator("#settings-dialog-error")).to_have_text(
        "Maximum messages: enter a whole number from 1 to 1000.")
    shot(page, "caps-dialog-error")
    page.fill("#cap-most", "2")
    page.click("#cap-submit")
    toast(page, "Frequency cap added: at most 2 Text SMS per customer in 7 days.")
    expect(page.locator("#cap-dialog")).to_have_count(0)

    # a second rule, deleted again; the first one edited down to 1
    page.click("#new-cap")
    _fill_cap(page, "any", "5", "7")
    expect(page.locator(".cap-row")).to_have_count(2)
    page.locator('.cap-row[data-channel="any"] .delete-cap').click()
    page.click("#delete-cap-confirm")
    expect(page.locator(".cap-row")).to_have_count(1)
    page.locator('.cap-row[data-channel="text_sms"] .edit-cap').click()
    expect(page.locator("#cap-most")).to_have_value("2")
    page.fill("#cap-most", "1")
    page.click("#cap-submit")
    row = page.locator('.cap-row[data-channel="text_sms"]')
    expect(row.locator(".cap-text")).to_have_text("At most 1 Text SMS per customer in 7 days")
    dismiss_toasts(page)
    shot(page, "caps-settings")
    sign_out(page)

    # a marketer: the Transactional switch in the New activity dialog
    sign_in(page, base, "marketer")
    page.click("#new-activity")
    page.fill("#new-name", "Order confirmation")
    page.get_by_role("checkbox", name=LABEL).click()
    expect(page.get_by_role("checkbox", name=LABEL)).to_have_attribute("data-state", "checked")
    shot(page, "caps-transactional-switch")
    page.click("#new-submit")
    page.wait_for_url("**/canvas**")
    assert _exempt("Order confirmation") == [True]

    # the canvas's Basic information (the pencil) shows it and switches it off, kept with Save Draft
    page.click("#canvas-edit-info")
    switch = page.locator("#info-dialog").get_by_role("checkbox", name=LABEL)
    expect(switch).to_have_attribute("data-state", "checked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "unchecked")
    page.click("#info-submit")
    expect(page.locator("#info-dialog")).to_have_count(0)
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    assert _exempt("Order confirmation") == [False]

    # the workers cache the rules RULES_TTL seconds: the rounds below start after the cap applies for sure
    page.wait_for_timeout(RULES_TTL * 1000 + 500)
    audience = audience_of("Capped SMS", customers(PEOPLE, offset=40))
    first = publish("Weekly offer", sms_flow(audience))
    wait_until(lambda: rounds(first)[-1].status == RecordStatus.COMPLETED, "the first round")
    second = publish("Weekly offer again", sms_flow(audience))
    wait_until(lambda: rounds(second)[-1].status == RecordStatus.COMPLETED, "the second round")
    phones = sum(1 for c in customers(PEOPLE, offset=40) if c.phone)  # the others fail: no address
    assert phones > 0

    open_canvas(page, base, second, mode="details")
    bar = exec_bar(page, "sms")
    expect(bar).to_have_attribute("data-capped", str(phones))
    expect(bar).to_have_attribute("data-sent", "0")
    expect(bar.locator(".fc-exec-label")).to_have_text(["Failed", "Capped", "Succeeded", "Sent", "Entered"])
    expect(bar.locator('[data-item="capped"] .fc-exec-value')).to_have_text(str(phones))
    expect(exec_bar(page, "e")).to_have_attribute("data-reached", str(PEOPLE))  # the capped went on
    shot(page, "caps-canvas-card")

    bar.click()
    panel = page.locator("#analysis-panel")
    expect(panel).to_have_attribute("data-node", "sms")
    chip = panel.locator('.analysis-chip[data-key="result:capped"]')
    expect(chip).to_contain_text("Capped")
    expect(chip).to_contain_text(str(phones))
    expect(panel.locator("#chart-timeline")).to_have_attribute("data-total", str(PEOPLE))
    chip.click()
    expect(panel.locator("#analysis-total")).to_have_attribute("data-total", str(phones))
    expect(panel).to_contain_text("Frequency cap: at most 1 Text SMS per customer in 7 days")
    animations_done(panel)
    shot(page, "caps-analysis")
