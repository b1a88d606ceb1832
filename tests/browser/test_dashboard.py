"""The Dashboard in the browser, on a real running engine with the demo data and the demo's shoppers
(tests/browser/live.py plus `python -m engine.demo_traffic`): a manager sees the KPIs and a chart per channel
with the engine's numbers, watches them change without a reload (pushed: the page sends nothing for them) and
drills down to a canvas; each role sees
only what it may (a marketer never another marketer's private activity); nothing running shows the empty
state."""

import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from engine import db
from engine.models import Role, User, Workspace
from engine.services.auth import hash_password
from engine.services.dashboard import Dashboard, dashboard
from marketing_app.states.dashboard import number, rate
from tests.browser.conftest import WEB_DIR, Shot
from tests.browser.execution_ui import live_db
from tests.browser.live import LiveStack, live_stack
from tests.browser.ui import sign_in
from tests.engine.runtime.support import Proc, engine_env

pytestmark = pytest.mark.browser
STATE = "dashboard_state."  # the dashboard's events in the websocket frames
#: the demo's private In Progress activities (engine/demo.py, engine/demo_live.py) and their creators
PRIVATE = {"Browse follow-up email": "marketer", "Double 11 cart abandoners": "marketer2",
           "Purchase feed to the CRM": "admin", "Webhook to CRM sync": "admin"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: str) -> Iterator[LiveStack]:
    work = tmp_path_factory.mktemp("live")
    # every send gets a receipt (90 % delivered, 10 % failed), so a finished round's numbers settle
    receipts = {"SIMULATOR_SUCCESS_RATE": "0.9", "SIMULATOR_FAILURE_RATE": "0.1", "SIMULATOR_RECEIPT_DELAY": "0.3"}
    with live_stack(work, Path(WEB_DIR), redis_server, settings=receipts) as running, live_db():
        # the demo's shoppers, briskly, and its CRM on the demo flows' port (taken by a run command running
        # alongside? then webhooks go there or fail: nothing below depends on them succeeding)
        env = engine_env(**running.env, DEMO_TRAFFIC_RATE="4")
        traffic = Proc("demo-traffic", [sys.executable, "-m", "engine.demo_traffic"], env, work / "logs").start()
        try:
            yield running
        finally:
            traffic.stop()


def served(username: str) -> Dashboard:
    """What the service says `username` may see now (on the live stack's database)."""
    with db.read_session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return dashboard(session=session, actor=user)


def poll(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def open_dashboard(page: Page) -> None:
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url("**/dashboard")
    expect(page.locator("#kpi-in-progress")).to_be_visible()


def kpi(page: Page, key: str) -> str:
    return page.locator(f"#kpi-{key}").get_attribute("data-value") or ""


def rows(page: Page) -> list[str]:
    return page.locator(".pulse-row").evaluate_all("rs => rs.map(r => r.dataset.name)")


def test_a_manager_watches_live_numbers_and_drills_down(stack: LiveStack, page: Page, shot: Shot) -> None:
    asked: list[str] = []  # the dashboard events the page sent its server (websocket frames)

    def sent(payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if text.startswith("42") and STATE in text:
            asked.append(text.split(STATE, 1)[1].split('"', 1)[0])
    page.on("websocket", lambda ws: ws.on("framesent", sent))
    sign_in(page, stack.url, "manager")
    open_dashboard(page)
    # the page follows the engine: rounds the scheduler starts meanwhile appear without a reload
    poll(lambda: rows(page) == [a.name for a in served("manager").activities], "the page to show the service's rows",
         timeout=30)
    expect(page.locator("#kpi-in-progress-value")).to_have_text(str(served("manager").in_progress))
    assert not set(rows(page)) & set(PRIVATE)  # nobody's private activity reaches a manager

    # the demo's rounds and shoppers produce sends: a chart per channel in use, with numbers
    poll(lambda: int(kpi(page, "sends") or 0) > 0, "sends on the dashboard")
    # the channels in use change as rounds start and end: the page follows the service's set
    def charted() -> list[str]:
        return page.locator(".chart-card").evaluate_all("cs => cs.map(c => c.id.slice('chart-'.length))")
    poll(lambda: charted() == [c.type for c in served("manager").channels], "a chart per channel the service lists",
         timeout=30)
    channels = charted()
    assert {"app_push", "wechat_message"} <= set(channels)
    # one bar trace per result on every chart: read in one evaluate of the cards on the page now (a demo round that
    # ends meanwhile takes its channel's card away; checking a card read earlier would find it gone)
    poll(lambda: page.locator(".chart-card").evaluate_all(
        "cs => cs.length > 0 && cs.every(c => c.querySelectorAll('.js-plotly-plot .trace.bars').length === 3)"),
        "three result traces on every channel's chart")
    poll(lambda: int(page.locator("#chart-app_push").get_attribute("data-sends") or 0) > 0, "APP PUSH sends")
    expect(page.locator("#chart-app_push .xtitle")).to_have_text("Hour (UTC)")
    expect(page.locator("#chart-app_push .ytitle")).to_have_text("Messages")

    # the page's numbers are the service's: a finished round's row settles and then matches exactly
    name = "VIP WeChat check-in every 15 min"
    row = page.locator(f'.pulse-row[data-name="{name}"]')

    def settled() -> bool:
        pulse = next(a for a in served("manager").activities if a.name == name)
        return (pulse.totals.sends > 0 and pulse.totals.pending == 0
                and row.locator('[data-col="sends"]').inner_text() == number(pulse.totals.sends)
                and row.locator('[data-col="success_rate"]').inner_text() == rate(pulse.totals.success_rate)
                and row.locator('[data-col="failed"]').inner_text() == number(pulse.totals.failed))
    poll(settled, f"{name} to show the engine's settled numbers")
    shot(page, "manager-dashboard", full=True)

    # live: the shoppers keep event-triggered activities sending; the numbers move without a reload, pushed by
    # the server: the page asked for nothing after starting its follower (on load: the navigation's own event)
    assert asked == ["follow"], asked
    expect(page.locator("#dashboard-follow")).to_have_attribute("data-live-follow", "dashboard")
    page.evaluate("window.__noReload = true")
    before = int(kpi(page, "sends"))
    poll(lambda: int(kpi(page, "sends")) > before, "the sends KPI to grow while the page stays open")
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    stamp = page.locator("#updated-at").inner_text()
    poll(lambda: page.locator("#updated-at").inner_text() != stamp, "a refresh within seconds", timeout=10)
    assert asked == ["follow"], asked
    shot(page, "manager-dashboard-live")

    # drill down: a row opens the activity's canvas (Details)
    activity_id = row.get_attribute("data-id")
    row.locator('[data-col="sends"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity_id}/canvas\?mode=details$"))
    expect(page.locator("#canvas-name")).to_have_text(name)
    shot(page, "drill-down-canvas")
    # the dashboard is left: the page told the server to stop following it
    poll(lambda: page.wait_for_timeout(100) or asked[-1:] == ["unfollow"], "the dashboard's follower to stop", 30)


def test_each_role_sees_what_it_may(stack: LiveStack, page: Page, shot: Shot) -> None:
    for username in ("marketer", "marketer2", "admin"):
        sign_in(page, stack.url, username)
        open_dashboard(page)
        # the page follows the engine (a periodic round restarting reorders the rows): it catches up by itself
        poll(lambda who=username: rows(page) == [a.name for a in served(who).activities], f"{username} rows",
             timeout=30)
        shown = rows(page)
        for private, owner in PRIVATE.items():
            visible = username in (owner, "admin")
            assert (private in shown) == visible, (username, private)
        if username == "marketer2":
            shot(page, "marketer2-dashboard", full=True)
        page.click("#logout")
        page.wait_for_url("**/login")


def test_nothing_running_shows_the_empty_state(stack: LiveStack, page: Page, shot: Shot) -> None:
    with db.write_session() as session:  # a workspace of its own, with nothing In Progress
        ws = Workspace(name="Quiet shop")
        session.add(ws)
        session.flush()
        session.add(User(workspace_id=ws.id, username="quiet", display_name="Quinn Quiet", role=Role.MANAGER,
                         password_hash=hash_password("quiet123", rounds=4)))
    page.goto(f"{stack.url}/login")
    page.fill("#login-username", "quiet")
    page.fill("#login-password", "quiet123")
    page.click("#login-submit")
    page.wait_for_url("**/")
    open_dashboard(page)
    expect(page.locator("#dashboard-empty")).to_be_visible()
    expect(page.locator("#dashboard-empty")).to_contain_text("Nothing is running right now")
    expect(page.locator("#kpi-in-progress-value")).to_have_text("0")
    expect(page.locator("#kpi-sends-value")).to_have_text("0")
    expect(page.locator("#kpi-success-rate-value")).to_have_text("—")
    expect(page.locator(".chart-card")).to_have_count(0)
    shot(page, "empty-state")
