"""Re-entry rules in the browser (issue 16): a marketer sets "again after 7 days" in the New activity dialog (a bad
N is refused with the service's words), customers do the event through the events API, do it again three days
later (the engine's clock file moved), and the Incoming Users panel lists who was not let in, with the reason."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from engine import db
from engine.runtime import reentry
from engine.runtime.connection import get_redis
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from tests.browser import expected
from tests.browser.canvas_ui import open_canvas
from tests.browser.conftest import WEB_DIR, Shot
from tests.browser.execution_ui import actor, customers, edge, exec_bar, live_db, node, rounds, send_events, wait_until
from tests.browser.live import LiveStack, live_stack
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser
EVENT = "reentry_visit"
CLOCK_FILE = Path(__file__).resolve().parents[2] / "tmp" / "reentry-browser-clock.txt"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: str) -> Iterator[LiveStack]:
    CLOCK_FILE.parent.mkdir(exist_ok=True)
    CLOCK_FILE.write_text("")  # empty: the wall clock, until the test moves it
    with live_stack(tmp_path_factory.mktemp("live"), Path(WEB_DIR), redis_server,
                    settings={"ENGINE_CLOCK_FILE": str(CLOCK_FILE)}) as running, live_db():
        yield running
    CLOCK_FILE.write_text("")


def _flow() -> dict:
    return {"nodes": [node("t", "behavior_event", 0, event=EVENT, times=1, window_hours=24),
                      node("g", "tag", 300, tag="visited", value="yes"), node("e", "end", 600)],
            "edges": [edge("t", "g"), edge("g", "e")]}


def _entered(record_id: int) -> int:
    return int(get_redis().scard(f"entered:{record_id}"))


def _refused(record_id: int) -> int:
    return int(get_redis().zcard(f"re:refused:{record_id}"))


def test_reentry_rule_set_in_the_dialog_and_refusals_in_incoming_users(stack: LiveStack, page: Page,
                                                                       shot: Shot) -> None:
    sign_in(page, stack.url, "marketer")
    page.click("#new-activity")
    page.fill("#new-name", "Visit thank-you, weekly at most")
    expect(page.locator("#new-reentry")).to_contain_text("Every time the trigger fires")  # the default
    page.click("#new-reentry")
    page.get_by_role("option", name="Again after N days", exact=True).click()
    expect(page.locator("#new-reentry-hint")).to_contain_text("last entry is at least N days old")
    page.fill("#new-reentry-days", "0")  # out of range: the service's own words
    why = expected.refusal(stack.env["DATABASE_URL"], "marketer", lambda s, u: svc.create_activity(
        session=s, actor=u, data=ActivityInput(name="x", reentry="after_days", reentry_days=0)))
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_have_text(why)
    shot(page, "n-out-of-range")
    page.fill("#new-reentry-days", "7")
    page.click("#new-one-live")
    expect(page.locator("#new-one-live")).to_have_attribute("data-state", "checked")
    shot(page, "rule-set")
    page.click("#new-submit")
    page.wait_for_url(re.compile(r".*/activities/\d+/canvas\?mode=edit$"))
    activity_id = int(re.findall(r"/activities/(\d+)/", page.url)[0])

    # the pencil's Basic information shows the same rule
    page.click("#canvas-edit-info")
    expect(page.locator("#info-reentry")).to_contain_text("Again after N days")
    expect(page.locator("#info-reentry-days")).to_have_value("7")
    expect(page.locator("#info-one-live")).to_have_attribute("data-state", "checked")
    shot(page, "basic-information")
    page.keyboard.press("Escape")

    with db.write_session() as session:  # the flow (building it on the canvas is other tests' subject)
        user = actor(session, "marketer")
        stored = svc.activity_input(session=session, actor=user, activity_id=activity_id)
        assert (stored.reentry, stored.reentry_days, stored.one_live_run) == ("after_days", 7, True)
        svc.save_draft(session=session, actor=user, activity_id=activity_id, flow=_flow())
        svc.publish(session=session, actor=user, activity_id=activity_id)
    wait_until(lambda: len(rounds(activity_id)) == 1 and rounds(activity_id)[0].dispatched_at is not None,
               "the round to open")
    record_id = rounds(activity_id)[0].id
    people = [c.qaid for c in customers(4, offset=300)]

    send_events(stack, people, EVENT)  # four customers enter
    wait_until(lambda: _entered(record_id) == 4, "the four entries")
    # walked to the End: they left the flow (one live run at a time), their route rows written
    wait_until(lambda: reentry.live_runs(get_redis(), activity_id) == {}, "the four to leave the flow")
    send_events(stack, people[:1], EVENT)  # at once again: entered moments ago
    later = datetime.now(UTC) + timedelta(days=3, minutes=1)
    CLOCK_FILE.write_text(later.isoformat())  # three days later, for every process of the stack
    send_events(stack, people[1:3], EVENT)  # two of them again: not before 7 days
    wait_until(lambda: _refused(record_id) == 3, "the three refusals")

    open_canvas(page, stack.url, activity_id, mode="details")
    exec_bar(page, "t").click()
    panel = page.locator("#incoming-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#incoming-total")).to_have_text("Total 4")
    section = page.locator("#refused-section")
    expect(section).to_have_attribute("data-total", "3")
    expect(section.locator('.refused-count[data-reason="after"]')).to_have_attribute("data-count", "3")
    rows = section.locator(".refused-row")
    expect(rows).to_have_count(3)
    for qaid in people[1:3]:
        expect(section.locator(f'.refused-row[data-qaid="{qaid}"] .refused-reason')).to_have_text(
            "Entered 3 days ago — re-entry after 7 days")
    expect(section.locator(f'.refused-row[data-qaid="{people[0]}"] .refused-reason')).to_have_text(
        "Entered moments ago — re-entry after 7 days")
    section.scroll_into_view_if_needed()
    shot(page, "incoming-not-let-in")
