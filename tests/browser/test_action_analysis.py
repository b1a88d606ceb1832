"""The action analysis panel in the browser, on a real running engine (tests/browser/live.py: the app, a Dramatiq
worker, the scheduler, the provider simulator and the API on one Redis): a component's execution data on the
canvas opens the panel; its charts and counts show the engine's numbers and follow the running round without a
reload; result labels filter the customer details (QAIDs), Last 5 Minutes / To Date too; Generate Crowd runs on
the worker and its operation record says "done" with the count; the crowd is offered in a Target Audience
picker. Screenshots of each state: empty, touch, judgment, AB test, expired."""

from datetime import timedelta

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import update
from sqlmodel import col, select

from engine import clock, crowd_actor, db
from engine.components.text_sms import short_code
from engine.models import Activity, CustomerStep, ExecutionRecord, User
from engine.runtime import abtest
from engine.runtime.connection import get_redis
from engine.runtime.details import all_steps
from engine.runtime.lifecycle import purge_details
from engine.runtime.store import RoundStore
from engine.services import activities as activity_service
from engine.services import analysis, crowds
from engine.services.activities import ActivityInput
from tests.browser.canvas_ui import click_card, fit, open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    customers,
    edge,
    exec_bar,
    module_stack,
    node,
    publish,
    rounds,
    send_events,
    wait_until,
)
from tests.browser.live import LiveStack
from tests.browser.settle import animations_done
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser
VISIT, PURCHASE = "analysis_visit", "analysis_purchase"
LINK = "https://shop.example.com/welcome"


# every send gets a receipt (80 % delivered, 20 % failed) 1.5 s after it was accepted: the numbers move
stack = module_stack(receipt_delay=1.5, settings={"SIMULATOR_SUCCESS_RATE": "0.8", "SIMULATOR_FAILURE_RATE": "0.2"})


def flow() -> dict:
    """Behaviour Event → Text SMS with a short link → Result Judgment ("Reached": success or no receipt yet) →
    AB Test A/B 50/50 (target: a purchase within 24 h) → End / End; the others → Wait Until 1 h → End."""
    return {"nodes": [node("t", "behavior_event", 0, 100, event=VISIT, times=1, window_hours=24),
                      node("sms", "text_sms", 300, 100, content="Hi {name}, welcome back: {short_link}",
                           link_url=LINK),
                      node("rj", "result_judgment", 600, 100, node_id="sms",
                           groups=[{"name": "Reached", "conditions": [{"op": "in",
                                                                      "value": ["success", "pending"]}]}]),
                      node("ab", "ab_test", 900, 0, groups=[{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}],
                           target_event=PURCHASE, window_hours=24),
                      node("w", "wait_until", 900, 240, mode="period", hours=1),
                      node("e1", "end", 1200, -60), node("e2", "end", 1200, 60), node("e3", "end", 1200, 240)],
            "edges": [edge("t", "sms"), edge("sms", "rj"), edge("rj", "ab", "group_1"), edge("rj", "w", "others"),
                      edge("ab", "e1", "group_1"), edge("ab", "e2", "group_2"), edge("w", "e3")]}


def panel(page: Page) -> Locator:
    return page.locator("#analysis-panel")


def open_panel(page: Page, node_id: str) -> Locator:
    """Click the component's execution data on the canvas (closing an open panel first: it covers the right of
    the canvas, as a drawer does)."""
    if panel(page).count():
        page.click("#analysis-close")
        expect(panel(page)).to_have_count(0)
    exec_bar(page, node_id).click()
    found = panel(page)
    expect(found).to_have_attribute("data-node", node_id)
    expect(found.locator("#analysis-title")).to_be_visible()
    # the drawer slides in: let its animations end, so screenshots show it as a user sees it at rest
    animations_done(found)
    return found


def engine_analysis(record_id: int, node_id: str, username: str = "marketer") -> analysis.NodeAnalysis:
    with db.read_session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return analysis.node_analysis(session=session, actor=user, record_id=record_id, node_id=node_id)


def chip(page: Page, key: str) -> Locator:
    return panel(page).locator(f'.analysis-chip[data-key="{key}"]')


def expect_chips(page: Page, expected: analysis.NodeAnalysis) -> None:
    for label in expected.labels:
        expect(chip(page, label.key)).to_have_attribute("data-count", str(label.count))
        expect(chip(page, label.key)).to_contain_text(label.name)


def settled(record_id: int, node_id: str = "sms") -> bool:
    """Every send of the component has its receipt (no "no receipt yet" left)."""
    got = engine_analysis(record_id, node_id)
    return got.metrics.get("pending", 0) == 0 and got.metrics.get("sent", 0) > 0


def test_live_charts_labels_periods_and_generate_crowd(stack: LiveStack, page: Page, shot: Shot) -> None:
    activity_id = publish("Analysis: welcome back", flow())
    wait_until(lambda: bool(rounds(activity_id)), "the round")
    record_id = int(rounds(activity_id)[0].id)  # type: ignore[arg-type]
    people = customers(60, offset=300)
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="details")
    page.evaluate("window.__noReload = true")

    # nobody has visited yet: the panel opens on empty charts that say so
    found = open_panel(page, "sms")
    expect(found).to_have_attribute("data-live", "true")
    expect(found.locator("#analysis-round")).to_have_text("Round #1 · V1 · In Progress")
    expect(found.locator("#chart-funnel")).to_have_attribute("data-empty", "true")
    expect(found.locator("#chart-funnel")).to_contain_text("No data yet")
    expect(found.locator("#analysis-details-empty")).to_contain_text("No data yet")
    shot(page, "empty")

    # customers visit: the open panel follows the round without a reload
    send_events(stack, [c.qaid for c in people[:35]], VISIT)
    expect(found).to_have_attribute("data-entered", "35")
    expect(found.locator("#chart-funnel")).to_have_attribute("data-empty", "false")
    expect(found.locator("#chart-funnel .js-plotly-plot")).to_be_visible()
    send_events(stack, [c.qaid for c in people[35:]], VISIT)
    expect(found).to_have_attribute("data-entered", "60")
    expect(found.locator("#chart-funnel")).to_have_attribute("data-total", "60")
    wait_until(lambda: settled(record_id), "the provider's receipts")
    expected = engine_analysis(record_id, "sms")
    expect(found).to_have_attribute("data-success", str(expected.metrics["success"]))
    expect(found).to_have_attribute("data-pending", "0")
    expect_chips(page, expected)
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    for chart_id, words in (("chart-funnel", "Actually sent"), ("chart-timeline", "Time (UTC, per minute)"),
                            ("chart-reasons", "Failure reasons"), ("chart-clicks", "Short link clicks")):
        expect(found.locator(f"#{chart_id} .js-plotly-plot")).to_be_visible()
        expect(found.locator(f"#{chart_id}")).to_contain_text(words)
    expect(found.locator("#chart-reasons")).to_have_attribute("data-total", str(
        expected.metrics["failed"] + expected.metrics.get("not_sent", 0)))
    # five customers tap their short link (one of them twice): the clicks chart follows
    with db.read_session() as session:
        tapped = list(session.exec(select(CustomerStep.customer_id).where(
            CustomerStep.record_id == record_id, CustomerStep.node_id == "sms",
            CustomerStep.result == "success").limit(5)).all())
    for cid in [*tapped, tapped[0]]:
        answer = httpx.get(f"{stack.env['SHORT_LINK_BASE']}/{short_code(record_id, 'sms', cid)}",
                           follow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["location"] == LINK
    expect(found.locator("#chart-clicks")).to_have_attribute("data-total", "6")
    expect(found.locator("#chart-clicks")).to_contain_text("of succeeded clicked")
    shot(page, "touch")

    # a result label filters the customer details, each with its QAID
    failed = next(label for label in expected.labels if label.key == "result:failed")
    chip(page, "result:failed").click()
    expect(chip(page, "result:failed")).to_have_class("analysis-chip selected")
    expect(found.locator("#analysis-total")).to_have_attribute("data-total", str(failed.count))
    rows = found.locator(".analysis-row")
    expect(rows).to_have_count(min(failed.count, 20))
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.result)")) == {"failed"}
    qaids = {c.qaid for c in people}
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.qaid)")) <= qaids
    found.locator("#analysis-details-section").scroll_into_view_if_needed()
    shot(page, "touch-failed-details")
    chip(page, "result:failed").click()  # again: everyone
    expect(found.locator("#analysis-total")).to_have_attribute("data-total", "60")
    expect(found.locator("#analysis-page")).to_have_text("Page 1 of 3")
    found.locator("#analysis-next").click()
    expect(found.locator("#analysis-page")).to_have_text("Page 2 of 3")

    # Last 5 Minutes / To Date: the first 35 visits are made ten minutes old
    with db.write_session() as session:
        session.exec(update(CustomerStep).where(
            CustomerStep.record_id == record_id, CustomerStep.node_id == "sms",
            col(CustomerStep.customer_id).in_([int(c.id) for c in people[:35]]))  # type: ignore[arg-type]
            .values(at=clock.now() - timedelta(minutes=10)))
    found.locator("#analysis-period").get_by_role("radio", name="Last 5 Minutes").click()
    expect(found.locator("#analysis-total")).to_have_attribute("data-total", "25")
    found.locator("#analysis-period").get_by_role("radio", name="To Date").click()
    expect(found.locator("#analysis-total")).to_have_attribute("data-total", "60")

    # Generate Crowd: the customers who received the SMS become an audience, built on the worker
    succeeded = expected.metrics["success"]
    found.locator("#generate-crowd").click()
    dialog = page.locator("#crowd-dialog")
    expect(dialog).to_be_visible()
    dialog.locator('[data-result="result:success"]').click()
    dialog.locator("#crowd-name").fill("Welcome back — delivered")
    expect(dialog.locator("#crowd-name-count")).to_have_text("24/60")
    shot(page, "generate-crowd-dialog")
    dialog.locator("#crowd-submit").click()
    expect(dialog).to_have_count(0)
    record = page.locator('.crowd-operation[data-name="Welcome back — delivered"]')
    expect(record).to_have_attribute("data-status", "done")
    expect(record).to_have_attribute("data-count", f"{succeeded:,}")
    expect(record).to_contain_text("Mia Marketer")
    expect(record).to_contain_text("Succeeded")
    shot(page, "generate-crowd-done")
    # between the request and the worker the operation is running: the panel shows its progress; the worker
    # then builds it (the request is made here through the service and stamped as sent, so the scheduler's
    # outbox leaves it alone: it stays running until this test hands its message to the stack's broker)
    with db.write_session() as session:
        user = session.exec(select(User).where(User.username == "marketer")).one()
        waiting = crowds.request_crowd(session=session, actor=user, record_id=record_id, node_id="sms",
                                       result="failed", name="Welcome back — failed")
        waiting.dispatched_at = clock.now()
        session.add(waiting)
    expect(found.locator("#crowd-progress")).to_be_visible()
    expect(page.locator('.crowd-operation[data-name="Welcome back — failed"]')).to_have_attribute(
        "data-status", "running")
    shot(page, "generate-crowd-running")
    broker = RedisBroker(url=stack.env["REDIS_URL"])
    broker.enqueue(crowd_actor.generate_crowd.message(waiting.id))
    broker.close()
    expect(page.locator('.crowd-operation[data-name="Welcome back — failed"]')).to_have_attribute(
        "data-status", "done")
    expect(found.locator("#crowd-progress")).to_have_count(0)
    # a second crowd with the same name is refused, in the dialog, in words
    page.keyboard.press("Escape")
    found.locator("#generate-crowd").click()
    dialog.locator("#crowd-name").fill("Welcome back — delivered")
    dialog.locator("#crowd-submit").click()
    expect(dialog.locator("#crowd-error")).to_contain_text("already exists")
    page.keyboard.press("Escape")

    # the crowd is offered by any Target Audience component's picker
    with db.write_session() as session:
        user = session.exec(select(User).where(User.username == "marketer")).one()
        draft = activity_service.create_activity(session=session, actor=user, data=ActivityInput(
            name="Follow up the delivered"), flow={
                "nodes": [node("t", "target_audience", 0, 0, audience_id=1), node("e", "end", 300)],
                "edges": [edge("t", "e")]})
        draft_id = int(draft.id)  # type: ignore[arg-type]
    open_canvas(page, stack.url, draft_id)
    fit(page)
    click_card(page, "t")
    expect(page.locator("#config-panel")).to_have_attribute("data-type", "target_audience")
    page.locator('#config-panel [data-select="audience_id"]').click()
    expect(page.get_by_role("option", name="Welcome back — delivered", exact=True)).to_be_visible()
    shot(page, "crowd-in-target-audience-picker")


def test_judgment_ab_test_and_expired_details(stack: LiveStack, page: Page, shot: Shot) -> None:
    activity_id = publish("Analysis: AB welcome", flow())
    wait_until(lambda: bool(rounds(activity_id)), "the round")
    record_id = int(rounds(activity_id)[0].id)  # type: ignore[arg-type]
    people = customers(80, offset=500)
    send_events(stack, [c.qaid for c in people], VISIT)
    wait_until(lambda: engine_analysis(record_id, "ab").metrics.get("entered", 0) > 0, "the AB test's inflow")
    wait_until(lambda: settled(record_id), "the provider's receipts")
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="details")

    # the judgment: customers per branch, the labels named as on the card
    found = open_panel(page, "rj")
    expected = engine_analysis(record_id, "rj")
    expect_chips(page, expected)
    assert [label.name for label in expected.labels] == ["Reached", "Others"]
    expect(found.locator("#chart-branches .js-plotly-plot")).to_be_visible()
    expect(found.locator("#chart-branches")).to_contain_text("Customers per branch")
    expect(found.locator("#generate-crowd")).to_have_count(0)  # a judgment sends nothing
    chip(page, "branch:others").click()
    others = next(label.count for label in expected.labels if label.key == "branch:others")
    expect(found.locator("#analysis-total")).to_have_attribute("data-total", str(others))
    shot(page, "judgment")

    # the AB test: group B's customers buy; the scheduler's refresh finds them, B wins, highlighted
    found = open_panel(page, "ab")
    with db.read_session() as session:
        group_b = sorted(step.customer_id for step in all_steps(session, record_id)
                         if step.node_id == "ab" and step.branch == "group_2")
    buyers = [c.qaid for c in people if c.id in set(group_b[:8])]
    send_events(stack, buyers, PURCHASE)
    store = RoundStore(get_redis())

    def refreshed() -> bool:
        with db.read_session() as session:
            abtest.refresh_record(session, store, session.get(ExecutionRecord, record_id))
        return engine_analysis(record_id, "ab").metrics.get("targets_achieved", 0) == len(buyers)

    wait_until(refreshed, "the purchases to count")
    expect(found.locator("#analysis-winner")).to_have_attribute("data-winner", "B")
    expect(found.locator("#chart-ab-rate")).to_contain_text("winner: B")
    expect(found.locator("#chart-ab-groups .js-plotly-plot")).to_be_visible()
    expect(found.locator("#chart-ab-groups")).to_have_attribute("data-total", str(
        engine_analysis(record_id, "ab").ab.total_inflow))  # type: ignore[union-attr]
    shot(page, "ab-test")

    # seven days later the details are purged: the panel says so, the numbers remain
    with db.write_session() as session:
        purge_details(session, clock.now() + timedelta(days=8))
    found = open_panel(page, "sms")
    expect(found.locator("#analysis-details-note")).to_have_attribute("data-state", "expired")
    expect(found.locator("#analysis-details-note")).to_contain_text("Details expired")
    expect(found.locator("#analysis-details-empty")).to_contain_text("Details expired")
    expect(found.locator("#chart-funnel")).to_have_attribute("data-total", "80")
    shot(page, "expired")
    found.locator("#generate-crowd").click()
    page.locator("#crowd-submit").click()
    expect(page.locator("#crowd-error")).to_contain_text("Details expired")
    with db.read_session() as session:
        assert session.get(Activity, activity_id) is not None
