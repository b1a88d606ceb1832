"""The automatic AB winner in the browser, on a real running engine (tests/browser/live.py: the app, a Dramatiq
worker, the scheduler, the provider simulator and the API on one Redis): a marketer switches on "Pick a winner
automatically" in the AB Test's panel (90 %, 40 % of the customers in the test; a 200-hour window is refused with
the rule's words), publishes, and the AB analysis panel shows the test running with the rest waiting; purchases
posted to the events API make group B significantly better, the scheduler's AB pass picks it, the waiting
customers walk on to B, and the panel shows each group's rate, the confidence, the winner, when and why."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from engine import clock, db
from engine.components.ab_test import in_test
from engine.models import AbDecision, User
from engine.runtime.connection import get_redis
from engine.runtime.details import all_steps
from engine.runtime.store import RoundStore
from engine.scheduler import Scheduler
from engine.services import activities as activity_service
from engine.services import analysis
from engine.services.activities import ActivityInput
from engine.status import RecordStatus
from tests.browser.canvas_ui import card, choose, click_card, configured, field, fill, fit, open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    actor,
    audience_of,
    customers,
    edge,
    exec_bar,
    module_stack,
    node,
    rounds,
    send_events,
    wait_until,
)
from tests.browser.live import LiveStack
from tests.browser.settle import animations_done
from tests.browser.ui import sign_in, toast

pytestmark = pytest.mark.browser
PURCHASE = "ab_auto_purchase"
N, SHARE = 300, 40


stack = module_stack()


def draft(audience_id: int) -> int:
    """Target Audience → AB Test A/B 50/50 (target: a purchase within 24 h, no automatic winner yet) → End / End."""
    flow = {"nodes": [node("t", "target_audience", 0, 60, audience_id=audience_id),
                      node("ab", "ab_test", 320, 60, groups=[{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}],
                           target_event=PURCHASE, window_hours=24),
                      node("e1", "end", 640, 0), node("e2", "end", 640, 140)],
            "edges": [edge("t", "ab"), edge("ab", "e1", "group_1"), edge("ab", "e2", "group_2")]}
    with db.write_session() as session:
        created = activity_service.create_activity(session=session, actor=actor(session, "marketer"), flow=flow,
                                                   data=ActivityInput(name="Auto AB: coupon wording"))
        return int(created.id)  # type: ignore[arg-type]


def ab_panel(page: Page) -> Locator:
    """The AB Test's action analysis panel, opened from its execution data on the canvas."""
    if page.locator("#analysis-panel").count():
        page.click("#analysis-close")
        expect(page.locator("#analysis-panel")).to_have_count(0)
    exec_bar(page, "ab").click()
    found = page.locator("#analysis-panel")
    expect(found).to_have_attribute("data-node", "ab")
    animations_done(found)
    return found


def ab_numbers(record_id: int) -> analysis.NodeAnalysis:
    with db.read_session() as session:
        user = session.exec(select(User).where(User.username == "marketer")).one()
        return analysis.node_analysis(session=session, actor=user, record_id=record_id, node_id="ab")


def test_auto_winner_configured_run_and_explained(stack: LiveStack, page: Page, shot: Shot) -> None:
    people = customers(N, offset=900)
    activity_id = draft(audience_of("AB auto audience", people))
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="edit")
    fit(page)
    click_card(page, "ab")
    expect(page.locator("#config-panel")).to_have_attribute("data-type", "ab_test")
    expect(field(page, "significance")).to_have_count(0)  # shown once the switch is on
    page.locator('#config-panel [data-switch="auto_winner"]').click()
    choose(page, "significance", "90 %")
    fill(page, "test_share", str(SHARE))
    fill(page, "window_hours", "200")
    expect(field(page, "window_hours")).to_contain_text("with an automatic winner the window is at most 168 hours")
    configured(page, "ab", False)
    shot(page, "window-refused")
    fill(page, "window_hours", "24")
    configured(page, "ab")
    expect(field(page, "window_hours").locator(".field-error")).to_have_count(0)
    shot(page, "auto-winner-configured")
    page.click("#canvas-publish")
    toast(page, "Published “Auto AB: coupon wording”: In Progress now.")

    wait_until(lambda: bool(rounds(activity_id)), "the round")
    record_id = int(rounds(activity_id)[0].id)  # type: ignore[arg-type]
    tested = [c for c in people if in_test(record_id, "ab", int(c.id), SHARE)]  # type: ignore[arg-type]
    held = N - len(tested)
    wait_until(lambda: ab_numbers(record_id).metrics.get("passed", 0) == len(tested)
               and ab_numbers(record_id).metrics.get("parked", 0) == held, "the test share split, the rest held")
    assert rounds(activity_id)[0].status == RecordStatus.IN_PROGRESS  # the held customers keep the round open

    open_canvas(page, stack.url, activity_id, mode="details")
    found = ab_panel(page)
    auto = found.locator("#ab-auto")
    expect(auto).to_have_attribute("data-decided", "false")
    expect(auto).to_have_attribute("data-waiting", str(held))
    settings = f"90 % significance · {SHARE} % of the customers in the test"
    expect(found.locator("#ab-auto-settings")).to_have_text(settings)
    expect(found.locator("#ab-auto-testing")).to_contain_text("Testing")
    expect(found.locator('.analysis-chip[data-key="result:parked"]')).to_have_attribute("data-count", str(held))
    shot(page, "testing-rest-waiting")

    # group B converts far better: purchases through the events API
    with db.read_session() as session:
        group = {s.customer_id: s.branch for s in all_steps(session, record_id) if s.node_id == "ab" and s.branch}
    a = [c.qaid for c in tested if group[int(c.id)] == "group_1"]  # type: ignore[arg-type]
    b = [c.qaid for c in tested if group[int(c.id)] == "group_2"]  # type: ignore[arg-type]
    buyers_a, buyers_b = a[:6], b[: max(20, len(b) // 2)]
    send_events(stack, buyers_a + buyers_b, PURCHASE)
    store = RoundStore(get_redis())
    # the scheduler's AB pass (it runs every minute in the scheduler process; here at once, the same code)
    picker = Scheduler(dispatch=lambda _record: None, resume=lambda *_batch: None, store=store)

    def picked() -> bool:
        picker.refresh_ab_tests(clock.now())
        with db.read_session() as session:
            return session.get(AbDecision, (record_id, "ab")) is not None

    wait_until(picked, "the automatic pick")
    wait_until(lambda: rounds(activity_id)[0].status == RecordStatus.COMPLETED, "the held customers to walk on")
    with db.read_session() as session:
        decision = session.get(AbDecision, (record_id, "ab"))
        assert decision is not None
        decision_reason = decision.reason
    assert decision.winner == "group_2" and decision.kind == "significant"
    assert re.fullmatch(rf"significant at 90 % \(p(=0\.\d{{3}}|<0\.001)\) after {len(tested)} customers",
                        decision_reason)
    got = ab_numbers(record_id)
    assert got.metrics["passed"] == N and got.metrics["branch:group_2"] == len(b) + held

    found = ab_panel(page)
    auto = found.locator("#ab-auto")
    expect(auto).to_have_attribute("data-decided", "true")
    expect(auto).to_have_attribute("data-winner", "B")
    expect(auto).to_have_attribute("data-waiting", "0")
    expect(found.locator("#ab-auto-why")).to_have_text(f"Why: {decision_reason}")
    expect(found.locator("#ab-auto-when")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
    expect(found.locator("#ab-auto-to-winner")).to_have_text(str(held))
    expect(found.locator("#analysis-winner")).to_have_attribute("data-winner", "B")
    rows = found.locator("#ab-auto-groups tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"{len(buyers_a) / len(a) * 100:.1f} %")
    expect(rows.nth(1)).to_contain_text(f"{len(buyers_b) / len(b) * 100:.1f} %")
    expect(rows.nth(1)).to_have_attribute("data-winner", "true")
    expect(found.locator("#ab-auto-confidence")).to_have_text(re.compile(r"9\d\.\d %|> 99\.9 %"))
    found.locator("#ab-auto").scroll_into_view_if_needed()
    shot(page, "winner-picked")
    expect(card(page, "ab")).to_be_visible()
