"""Watching a campaign run, in the browser, on a real running engine (tests/browser/live.py: the app, a Dramatiq
worker, the scheduler, the provider simulator and the API on one Redis): the numbers on the canvas change live
without a reload, pushed by the server with no timer in the page, the trigger's numbers open Incoming Users, a
row draws the customer's route green, a round opened from Execution Records shows the engine's numbers, expired
details say so, and a private activity's canvas is not found for others, by URL too."""

import re
import time
from datetime import timedelta

import pytest
import redis
from playwright.sync_api import Page, expect
from sqlalchemy import text

from engine import db
from engine.runtime import live
from engine.services.execution import SEND
from engine.status import RecordStatus
from tests.browser.canvas_ui import card, line_path, on_screen, open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    audience_of,
    customers,
    edge,
    exec_bar,
    expect_numbers,
    module_stack,
    node,
    publish,
    rounds,
    send_events,
    view,
    wait_until,
)
from tests.browser.live import LiveStack
from tests.browser.ui import menu_action, search, sign_in

pytestmark = pytest.mark.browser
EVENT = "exec_live_visit"
PUSH_EVENT = "exec_push_visit"


class SentEvents:
    """The Reflex events a page sends its server (Socket.IO event packets, "42..."; pings' pongs are not events)."""

    def __init__(self, page: Page) -> None:
        self.frames: list[tuple[float, str]] = []
        page.on("websocket", lambda ws: ws.on("framesent", self._sent))

    def _sent(self, payload: str | bytes) -> None:
        text_ = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if text_.startswith("42"):
            self.frames.append((time.monotonic(), text_))

    def named(self, name: str) -> list[str]:
        return [f for _, f in self.frames if name in f]

    def since(self, t: float) -> list[str]:
        return [f for at, f in self.frames if at >= t]

    def wait_for(self, page: Page, name: str, count: int = 1, timeout: float = 30.0) -> None:
        """Until `count` events named `name` were sent (Playwright delivers frames while it drives the page)."""
        deadline = time.monotonic() + timeout
        while len(self.named(name)) < count:
            assert time.monotonic() < deadline, f"the page never sent {name}"
            page.wait_for_timeout(100)


# every send gets a receipt (80 % delivered, 20 % failed), so the numbers settle
stack = module_stack(settings={"SIMULATOR_SUCCESS_RATE": "0.8", "SIMULATOR_FAILURE_RATE": "0.2"})


def event_flow(event: str = EVENT) -> dict:
    """Behaviour Event → Text SMS → End: customers enter as their events arrive."""
    return {"nodes": [node("t", "behavior_event", 0, event=event, times=1, window_hours=24),
                      node("sms", "text_sms", 300, content="Hi {name}, thanks for visiting"),
                      node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}


def audience_flow(audience_id: int) -> dict:
    """Target Audience → Random Grouping 50/50 → Text SMS → End / Tag → End."""
    return {"nodes": [node("t", "target_audience", 0, 100, audience_id=audience_id),
                      node("rg", "random_grouping", 300, 100, groups=[{"name": "SMS", "ratio": 50},
                                                                     {"name": "Tag", "ratio": 50}]),
                      node("sms", "text_sms", 600, 0, content="Hello {name}"),
                      node("tag", "tag", 600, 200, tag="watched", value="yes"),
                      node("e1", "end", 900, 0), node("e2", "end", 900, 200)],
            "edges": [edge("t", "rg"), edge("rg", "sms", "group_1"), edge("rg", "tag", "group_2"),
                      edge("sms", "e1"), edge("tag", "e2")]}


def test_details_numbers_change_live_and_a_customer_route_is_drawn(stack: LiveStack, page: Page, shot: Shot) -> None:
    activity_id = publish("Live visit follow-up", event_flow())
    people = customers(12, offset=100)
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="details")
    expect(page.locator("#canvas-record")).to_have_attribute("data-live", "true")
    expect(page.locator("#canvas-record-label")).to_have_text("Round #1 · In Progress")
    trigger = exec_bar(page, "t")
    expect(trigger).to_have_attribute("data-entered", "0")
    expect(exec_bar(page, "sms")).to_have_attribute("data-kind", SEND)
    expect(exec_bar(page, "sms").locator(".fc-exec-label")).to_have_text(["Failed", "Succeeded", "Sent", "Entered"])
    expect(trigger.locator(".fc-exec-label")).to_have_text(["Met", "Entered"])
    page.evaluate("window.__noReload = true")
    shot(page, "details-before-events")

    # customers do the event: the numbers move without a reload
    send_events(stack, [c.qaid for c in people[:5]], EVENT)
    expect(trigger).to_have_attribute("data-entered", "5")
    expect(exec_bar(page, "sms")).to_have_attribute("data-entered", "5")
    send_events(stack, [c.qaid for c in people[5:]], EVENT)
    expect(trigger).to_have_attribute("data-entered", "12")
    expect(exec_bar(page, "e")).to_have_attribute("data-reached", "12")
    no_phone = sum(1 for c in people if not c.phone)  # failed without a send: not "actually sent"
    expect(exec_bar(page, "sms")).to_have_attribute("data-sent", str(12 - no_phone))
    expect(exec_bar(page, "sms")).to_have_attribute("data-not-sent", str(no_phone))
    wait_until(lambda: view("marketer", activity_id).nodes["sms"].extra["pending"] == 0, "the provider's receipts")
    expect_numbers(page, view("marketer", activity_id))  # receipts arrived: succeeded / failed as the engine says
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    card(page, "sms").click()  # still responsive while it refreshes: the configuration panel opens
    expect(page.locator("#config-panel")).to_have_attribute("data-type", "text_sms")
    page.click("#panel-close")
    shot(page, "details-live-numbers")

    # the trigger's numbers → Incoming Users: who entered, latest first
    trigger.click()
    panel = page.locator("#incoming-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#incoming-total")).to_have_text("Total 12")
    rows = panel.locator(".incoming-row")
    expect(rows).to_have_count(12)
    expect(panel.locator('.incoming-row[data-status="success"]')).to_have_count(12)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.qaid)")) == {c.qaid for c in people}
    page.locator("#incoming-window").get_by_role("radio", name="Last 5 Minutes").click()
    expect(panel).to_have_attribute("data-window", "5m")
    expect(rows).to_have_count(12)  # they all entered within the last minutes
    shot(page, "incoming-users")

    # a row → that customer's route, green on the canvas; the rest dimmed
    chosen = people[7]
    panel.locator(f'.incoming-row[data-qaid="{chosen.qaid}"]').click()
    expect(page.locator(".fc-root")).to_have_attribute("data-route", "t,sms,e")
    for nid in ("t", "sms", "e"):
        expect(card(page, nid)).to_have_attribute("data-route", "on")
    expect(line_path(page, "t", "sms")).to_have_class(re.compile(r"\bon-route\b"))
    expect(line_path(page, "sms", "e")).to_have_class(re.compile(r"\bon-route\b"))
    expect(page.locator("#incoming-route-note")).to_contain_text(chosen.qaid)
    # the canvas fits the route into view (delayed, then a short animation): on_screen waits for it to rest
    assert all(on_screen(page, card(page, nid)) for nid in ("t", "sms", "e")), "the route is not all in view"
    green = line_path(page, "t", "sms").evaluate("p => getComputedStyle(p).stroke")
    assert green == "rgb(48, 164, 108)", green
    shot(page, "customer-route-green")
    page.click("#incoming-clear-route")
    expect(page.locator(".fc-root")).to_have_attribute("data-route", "")

    # any other component's numbers → the action analysis panel
    exec_bar(page, "sms").click()
    expect(page.locator("#analysis-panel")).to_have_count(1)
    expect(panel).to_have_count(0)


def test_the_engine_pushes_a_change_to_the_open_canvas_with_no_timer_in_the_page(stack: LiveStack, page: Page,
                                                                                shot: Shot) -> None:
    sent = SentEvents(page)
    activity_id = publish("Pushed visit follow-up", event_flow(PUSH_EVENT))
    [record] = rounds(activity_id)
    people = customers(4, offset=200)
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="details")
    follower = page.locator("#canvas-follow")
    expect(follower).to_have_attribute("data-live-follow", str(record.id))  # LiveFollow, not a Ticker
    sent.wait_for(page, "execution_state.follow")  # the page started its follower on the server
    expect(exec_bar(page, "t")).to_have_attribute("data-entered", "0")
    quiet_from = time.monotonic()

    # the engine counts customers entering (its own counter writes, which PUBLISH the record id) ...
    send_events(stack, [c.qaid for c in people], PUSH_EVENT)
    # ... and the numbers arrive while the page sends nothing: no tick, no poll, no reload
    expect(exec_bar(page, "t")).to_have_attribute("data-entered", str(len(people)))
    expect(exec_bar(page, "e")).to_have_attribute("data-reached", str(len(people)))
    assert sent.since(quiet_from) == [], "the page asked the server for the change"
    shot(page, "pushed-numbers")

    # leaving the page tells the server to stop following (the follower unmounts with the page); with no page
    # following anything (closed tabs' followers end by themselves), the app process drops its subscription
    page.click("#canvas-back")
    page.wait_for_url(f"{stack.url}/")
    sent.wait_for(page, "execution_state.unfollow")
    subscribers = redis.Redis.from_url(stack.env["REDIS_URL"])
    wait_until(lambda: subscribers.pubsub_numsub(live.CHANNEL)[0][1] == 0, "the app to unsubscribe", timeout=60)


def test_a_round_opened_from_execution_records_shows_the_engine_numbers(stack: LiveStack, page: Page,
                                                                        shot: Shot) -> None:
    name = "Watched audience split"
    audience = audience_of("Execution canvas audience", customers(60, offset=300))
    activity_id = publish(name, audience_flow(audience))
    wait_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED, "the round to complete")
    [record] = rounds(activity_id)
    sign_in(page, stack.url, "marketer")
    search(page, name)
    menu_action(page, name, "records")
    page.locator(f'#records-drawer .record-row[data-number="#{record.number}"] [data-action="view"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity_id}/canvas\?record={record.id}$"))
    expect(page.locator("#canvas-record-label")).to_have_text("Round #1 · Completed")
    expect(page.locator("#canvas-record")).to_have_attribute("data-live", "false")
    engine_view = view("marketer", activity_id, record_id=record.id)
    assert dict(engine_view.nodes["t"].values) == {"met": 60, "entered": 60}
    expect_numbers(page, engine_view)
    split = dict(engine_view.nodes["rg"].values)
    assert split["met"] == split["entered"] == 60
    shot(page, "record-view-numbers")

    # details older than 7 days are purged: the panel says so, the numbers stay
    with db.write_session() as session:
        for table in ("customerroute", "customerstep"):  # the route rows and the sends' rows
            session.execute(text(f"UPDATE {table} SET at = :at WHERE record_id = :rid"),
                            {"at": record.started_at - timedelta(days=8), "rid": record.id})
        session.execute(text("UPDATE executionrecord SET started_at = :s, ended_at = :e WHERE id = :rid"),
                        {"s": record.started_at - timedelta(days=8), "e": record.ended_at - timedelta(days=8),
                         "rid": record.id})
        from engine.runtime.lifecycle import purge_details

        assert purge_details(session) >= 60
    page.reload()
    exec_bar(page, "t").click()
    expect(page.locator("#incoming-empty")).to_have_attribute("data-expired", "true")
    expect(page.locator("#incoming-empty")).to_contain_text("no longer kept")
    expect_numbers(page, view("marketer", activity_id, record_id=record.id))
    shot(page, "incoming-expired")


@pytest.mark.parametrize("username", ["marketer2", "manager"])
def test_a_private_round_is_not_found_for_others_by_url(stack: LiveStack, page: Page, shot: Shot,
                                                        username: str) -> None:
    activity_id = publish(f"Private watch {username}", event_flow())
    [record] = rounds(activity_id)
    sign_in(page, stack.url, username)
    page.goto(f"{stack.url}/activities/{activity_id}/canvas?record={record.id}")
    expect(page.locator("#canvas-error")).to_have_text("Activity not found.")
    expect(page.locator(".fc-exec")).to_have_count(0)
    page.goto(f"{stack.url}/activities/{activity_id}/canvas?mode=details")
    expect(page.locator("#canvas-error")).to_have_text("Activity not found.")
    shot(page, f"private-not-found-{username}")
