"""Send windows and rate limits in the browser, on a real running engine (tests/browser/live.py): an admin sets a
channel's messages-per-minute limit in Settings → Channels (a bad value refused, nothing saved); a marketer sets
a send window and a rate limit in the canvas's Basic information (a bad time refused with the service's words),
publishes, and the execution views show the effect: customers outside the window waiting at the touch, the rate
limit's backlog with its expected finish, and — on a "skip" activity — the skipped customers. Screenshots of
each state."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import col, select

from engine import db
from engine.models import ChannelRateLimit, Customer
from engine.services import activities as activity_service
from engine.services import pacing as pacing_service
from engine.services.activities import ActivityInput
from engine.services.pacing import PacingInput
from tests.browser.canvas_ui import click_card, open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    actor,
    audience_of,
    customers,
    edge,
    exec_bar,
    module_stack,
    node,
    publish,
    rounds,
    view,
    wait_until,
)
from tests.browser.live import LiveStack
from tests.browser.ui import sign_in, toast

pytestmark = pytest.mark.browser
#: the window is open 14:00 → 10:00 the next day (it spans midnight), closed 10:00–14:00 local time
OPENS, CLOSES = "14:00", "10:00"


stack = module_stack()


def _zone(local_hour: int) -> str:
    """An IANA zone whose local time is now `local_hour`:xx (Etc/GMT-N is UTC+N)."""
    offset = (local_hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _audience(name: str, inside: int, outside: int, offset: int) -> tuple[int, list[int]]:
    """Demo customers with a phone: `inside` of them where it is now 20:xx (window open, hours from closing),
    `outside` where it is 12:xx (closed, at least an hour before it opens)."""
    people = customers(inside + outside, offset=offset)
    with db.write_session() as session:
        for i, person in enumerate(people):
            session.exec(update(Customer).where(col(Customer.id) == person.id).values(
                timezone=_zone(20 if i < inside else 12), phone=f"+86139{int(person.id):08d}"))  # type: ignore[arg-type]
    return audience_of(name, people), [int(p.id) for p in people]  # type: ignore[arg-type]


def _flow(audience_id: int) -> dict:
    return {"nodes": [node("t", "target_audience", 0, 100, audience_id=audience_id),
                      node("sms", "text_sms", 300, 100, content="Hi {name}"), node("e", "end", 600, 100)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}


def test_admin_sets_a_channel_rate_limit(stack: LiveStack, page: Page, shot: Shot) -> None:
    sign_in(page, stack.url, "admin")
    page.goto(f"{stack.url}/settings/channels")
    section = page.locator("#channel-limits")
    expect(section.locator('.limit-row[data-channel="text_sms"]')).to_contain_text("Text SMS")
    page.fill("#limit-text_sms", "lots")
    page.fill("#limit-email", "1200")
    page.click("#limits-save")
    expect(page.locator("#limits-error")).to_have_text(
        "The Text SMS limit must be a whole number (1 to 100,000), or empty for no limit.")
    with db.read_session() as session:
        assert session.exec(select(ChannelRateLimit)).all() == []  # all or nothing
    page.fill("#limit-text_sms", "600")
    page.click("#limits-save")
    toast(page, "Send-rate limits saved")
    expect(page.locator("#limits-error")).to_have_count(0)
    section.scroll_into_view_if_needed()
    shot(page, "channel-limits")
    with db.read_session() as session:
        stored = {r.channel: r.max_per_minute for r in session.exec(select(ChannelRateLimit))}
    assert stored == {"text_sms": 600, "email": 1200}
    page.reload()
    expect(page.locator("#limit-text_sms")).to_have_value("600")
    # the demo's own rounds send SMS in this workspace too: leave them (and the next test) unthrottled
    with db.write_session() as session:
        pacing_service.save_channel_limits(session=session, actor=actor(session, "admin"),
                                           limits={"text_sms": "", "email": ""})


def test_send_window_and_rate_limit_set_on_the_canvas_show_in_the_execution_views(
        stack: LiveStack, page: Page, shot: Shot) -> None:
    audience_id, ids = _audience("Pacing: world", inside=5, outside=2, offset=700)
    with db.write_session() as session:
        activity_id = int(activity_service.create_activity(  # type: ignore[arg-type]
            session=session, actor=actor(session, "marketer"), flow=_flow(audience_id),
            data=ActivityInput(name="Pacing: evening SMS")).id)
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="edit")
    page.click("#canvas-edit-info")
    dialog = page.locator("#info-dialog")
    expect(dialog.locator("#info-pacing")).to_contain_text("Send window and rate limit")
    page.fill("#info-window-start", "25:00")
    page.fill("#info-window-end", CLOSES)
    page.fill("#info-rate-limit", "1")
    page.click("#info-submit")
    expect(page.locator("#info-error")).to_have_text(
        "The send window's start time must be HH:MM (24-hour), e.g. 09:00; “25:00” is not.")
    page.fill("#info-window-start", OPENS)
    expect(page.locator("#info-error")).to_have_count(0)  # editing the field clears the refusal
    expect(page.locator("#info-window-outside")).to_contain_text("Wait until it opens")
    shot(page, "basic-information")
    page.click("#info-submit")
    expect(dialog).to_have_count(0)
    click_card(page, "sms")  # the touch's panel says what applies to it
    expect(page.locator("#panel-pacing")).to_contain_text(
        "Send window 14:00–10:00 (customer's local time); outside it: wait until it opens · at most 1 message per "
        "minute")
    shot(page, "touch-panel")
    page.click("#panel-close")
    page.click("#canvas-publish")
    toast(page, "Published “Pacing: evening SMS”")
    page.wait_for_url(re.compile(r".*/$"))
    with db.read_session() as session:
        read = activity_service.activity_input(session=session, actor=actor(session, "marketer"),
                                               activity_id=activity_id).pacing
    assert read == PacingInput(window_start=OPENS, window_end=CLOSES, outside="wait", max_per_minute=1)

    # the round: one of the five inside the window is sent this minute, four wait for the next minutes (one a
    # minute), the two outside it wait for 14:00 in their zone
    wait_until(lambda: bool(rounds(activity_id)), "the round")
    record_id = int(rounds(activity_id)[0].id)  # type: ignore[arg-type]

    def sms() -> dict[str, int]:
        return view("marketer", activity_id).nodes["sms"].extra

    wait_until(lambda: sms().get("window_waiting") == 2 and sms().get("backlog", 0) >= 3, "the customers held")
    open_canvas(page, stack.url, activity_id, mode="details")
    bar = exec_bar(page, "sms")
    expect(bar).to_have_attribute("data-window-waiting", "2")
    expect(bar).to_have_attribute("data-backlog", re.compile(r"^[1-4]$"))
    expect(bar).to_have_attribute("title", re.compile(r"2 waiting \(send window\)"))
    bar.click()
    panel = page.locator("#analysis-panel")
    expect(panel).to_have_attribute("data-node", "sms")
    with db.read_session() as session:
        status = pacing_service.touch_status(
            metrics=_metrics(record_id), record_id=record_id,
            node_id="sms", time_zone=pacing_service.workspace_zone(session, actor(session, "marketer").workspace_id))
    assert status.finish  # the last customer's minute: fixed when the round reserved it
    line = panel.locator("#analysis-pacing")
    expect(line).to_contain_text("waiting (send window) 2")
    expect(line).to_contain_text(re.compile(r"backlog [1-4] · expected finish " + re.escape(status.finish)))
    shot(page, "waiting-and-backlog")
    assert len(ids) == 7


def _metrics(record_id: int) -> dict[str, int]:
    from engine.runtime.connection import get_redis
    from engine.runtime.store import RoundStore

    return RoundStore(get_redis()).counters(record_id).get("sms", {})


def test_skip_mode_shows_the_skipped_customers(stack: LiveStack, page: Page, shot: Shot) -> None:
    audience_id, _ids = _audience("Pacing: skip", inside=2, outside=3, offset=720)
    activity_id = publish("Pacing: skip quiet hours", _flow(audience_id),
                          pacing=PacingInput(window_start=OPENS, window_end=CLOSES, outside="skip"))
    wait_until(lambda: bool(rounds(activity_id)) and view("marketer", activity_id).nodes.get("sms") is not None
               and view("marketer", activity_id).nodes["sms"].extra.get("skipped") == 3, "the skipped customers")
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="details")
    bar = exec_bar(page, "sms")
    expect(bar).to_have_attribute("data-skipped", "3")
    expect(bar.locator('[data-item="entered"]')).to_contain_text("5")
    bar.click()
    panel = page.locator("#analysis-panel")
    expect(panel.locator("#analysis-pacing")).to_have_text("skipped (quiet hours) 3")
    skipped = panel.locator('.analysis-chip[data-key="result:skipped"]')
    expect(skipped).to_have_attribute("data-count", "3")
    skipped.click()  # the result label filters the customer details: the three, with their reason
    expect(panel.locator("#analysis-total")).to_have_attribute("data-total", "3")
    expect(panel).to_contain_text("quiet hours")
    shot(page, "skipped")


def test_new_activity_dialog_takes_a_send_window_and_a_limit(stack: LiveStack, page: Page, shot: Shot) -> None:
    sign_in(page, stack.url, "marketer")
    page.click("#new-activity")
    dialog = page.locator("#new-activity-dialog")
    expect(dialog.locator("#new-pacing")).to_contain_text("Max messages per minute")
    page.fill("#new-name", "Pacing: new with a window")
    page.fill("#new-window-start", "21:00")
    page.fill("#new-window-end", "08:30")
    page.click("#new-window-outside")
    page.get_by_role("option", name="Skip the touch").click()
    page.fill("#new-rate-limit", "0")
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(
        "The messages per minute must be between 1 and 100,000 (or empty for no limit).")
    page.fill("#new-rate-limit", "250")
    expect(page.locator("#new-error")).to_have_count(0)
    shot(page, "new-activity")
    page.click("#new-submit")
    page.wait_for_url(re.compile(r".*/activities/\d+/canvas.*"))
    activity_id = int(re.search(r"/activities/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    with db.read_session() as session:
        read = activity_service.activity_input(session=session, actor=actor(session, "marketer"),
                                               activity_id=activity_id).pacing
    assert read == PacingInput(window_start="21:00", window_end="08:30", outside="skip", max_per_minute=250)
