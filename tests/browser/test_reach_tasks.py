"""The Reach Tasks page for SMS (/reach/sms) in the browser, on a real running engine (tests/browser/live.py):
a marketer's event-triggered SMS flow runs while the page is open; its task shows the engine's numbers with
actually sent = succeeded + failed + no receipt, grows without a reload as customers' events arrive (pushed),
is found by the filters, and another marketer's private activity's task is never shown — not in the list, not
by its id in the URL. A task's details page: counts with Refresh, the numbers (last four digits only), Preview,
Generate Audience built by Generate Crowd's worker, "Task not found" for another marketer, and a week later
(the whole stack's engine clock moved) the details expired and Generate Audience refused."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from engine import clock, db
from engine.models import Audience, AudienceMember, ExecutionRecord
from engine.services import local_time, moderation
from engine.services.reach_details import TaskDetails, task_details
from engine.services.reach_tasks import ReachTask, TaskQuery, list_tasks
from tests.browser.conftest import WEB_DIR, Shot
from tests.browser.execution_ui import (
    actor,
    audience_of,
    customers,
    edge,
    live_db,
    node,
    publish,
    send_events,
    wait_until,
)
from tests.browser.live import LiveStack, live_stack
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser
EVENT = "reach_visit"
PUBLIC = "Reach: visit thank-you SMS"
PRIVATE = "Reach: private flash sale"
DETAILED = "Reach: details SMS"
CLOCK_FILE = Path(__file__).resolve().parents[2] / "tmp" / "reach-browser-clock.txt"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: str) -> Iterator[LiveStack]:
    # 70 % delivered, 20 % failed, 10 % never get a receipt (they count as "no receipt yet" for 72 hours)
    receipts = {"SIMULATOR_SUCCESS_RATE": "0.7", "SIMULATOR_FAILURE_RATE": "0.2", "SIMULATOR_RECEIPT_DELAY": "0.3",
                "ENGINE_CLOCK_FILE": str(CLOCK_FILE)}  # empty: the wall clock; the details test moves it a week
    CLOCK_FILE.parent.mkdir(exist_ok=True)
    CLOCK_FILE.write_text("")
    with live_stack(tmp_path_factory.mktemp("live"), Path(WEB_DIR), redis_server, settings=receipts) as running, \
            live_db():
        yield running


def sms_flow(trigger: dict) -> dict:
    return {"nodes": [trigger, node("sms", "text_sms", 300, content="Hi {name}, thanks for visiting"),
                      node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}


def served(username: str, **query) -> list[ReachTask]:  # noqa: ANN003
    with db.read_session() as session:
        return list_tasks(session=session, actor=actor(session, username), channel="sms",
                          query=TaskQuery(page_size=200, **query)).rows


def row(page: Page, name: str):  # noqa: ANN201 — a Locator
    return page.locator(f'.task-row[data-name="{name} · round 1"]')


def numbers(page: Page, name: str) -> dict[str, int]:
    r = row(page, name)
    if r.count() != 1:
        return {}
    # one read of the row's attributes in the page (five get_attribute calls could straddle a re-render)
    data = r.evaluate("el => ({...el.dataset})")
    return {k: int(data.get(k) or 0) for k in ("audience", "sent", "success", "failed", "pending")}


def awaiting_line(page: Page, name: str) -> tuple[int, str]:
    """(the row's no-receipt count, the Succeeded cell's "… awaiting" line or ""), read in one go."""
    pending, text = row(page, name).evaluate(
        "el => [el.dataset.pending, el.querySelector('.awaiting-number')?.textContent ?? '']")
    return int(pending), text


def names(page: Page) -> list[str]:
    return page.locator(".task-row").evaluate_all("rs => rs.map(r => r.dataset.name)")


def test_a_running_sms_task_live_filtered_and_private_to_its_creator(stack: LiveStack, page: Page,
                                                                      shot: Shot) -> None:
    people = customers(60)
    with_phone = [c for c in people if c.phone][:50]
    public_id = publish(PUBLIC, sms_flow(node("t", "behavior_event", 0, event=EVENT, times=1, window_hours=24)),
                        public=True)
    private_audience = audience_of("Reach private crowd", people[:20], username="marketer2")
    private_id = publish(PRIVATE, sms_flow(node("t", "target_audience", 0, audience_id=private_audience)),
                         username="marketer2")
    send_events(stack, [c.qaid for c in with_phone[:30]], EVENT)

    sign_in(page, stack.url, "marketer")
    page.get_by_role("link", name="Reach Tasks").click()
    page.wait_for_url("**/reach/sms")
    expect(page.locator("#page-title")).to_have_text("Reach Tasks · SMS")

    def engine_numbers() -> dict[str, int]:
        [task] = [t for t in served("marketer") if t.activity_id == public_id]
        return {"audience": task.audience, "sent": task.sent, "success": task.success, "failed": task.failed,
                "pending": task.pending}

    def shows(audience: int) -> bool:
        """One sample of the page: the invariants hold at every instant, even before the sends land."""
        shown = numbers(page, PUBLIC)
        if shown:
            assert shown["sent"] == shown["success"] + shown["failed"] + shown["pending"] <= shown["audience"], shown
            pending, line = awaiting_line(page, PUBLIC)  # no line while every sent message has its receipt
            assert line == (f"{pending:,} awaiting" if pending else ""), (pending, line)
        return shown.get("audience") == shown.get("sent") == audience and shown == engine_numbers()

    # the task of the running round: the engine's numbers, actually sent = succeeded + failed + no receipt
    wait_until(lambda: shows(30), "the page to show the running task's 30 sends with the engine's numbers")
    shown = numbers(page, PUBLIC)
    assert shown["sent"] == shown["success"] + shown["failed"] + shown["pending"] == 30
    task = row(page, PUBLIC)
    expect(task.locator('[data-col="status"]')).to_have_text("Sending")  # the round is In Progress
    expect(task).to_contain_text("Hi {name}, thanks for visiting")
    expect(task.locator('[data-col="content"]')).to_contain_text("1 SMS segment before variables")
    expect(task).to_contain_text("Behaviour event: reach_visit")
    shot(page, "sms-tasks", full=True)

    # live: more customers' events arrive; the numbers grow without a reload (pushed by the server)
    page.evaluate("window.__noReload = true")
    send_events(stack, [c.qaid for c in with_phone[30:50]], EVENT)
    wait_until(lambda: shows(50), "the task to grow to 50 sends while the page stays open")
    shown = numbers(page, PUBLIC)
    assert shown["sent"] == shown["success"] + shown["failed"] + shown["pending"] == 50
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"
    # the sends without a receipt are shown under Succeeded, so the three columns add up to Actually sent
    pending, line = awaiting_line(page, PUBLIC)
    assert pending > 0 and line == f"{pending:,} awaiting", (pending, line)
    task.locator('[data-col="sent"] span').first.hover()
    expect(page.get_by_role("tooltip")).to_contain_text("no receipt yet")
    shot(page, "sms-task-live-hover")

    # filters: the name, the status, the activity
    page.fill("#task-search", "visit thank-you")
    page.press("#task-search", "Enter")
    expect(page.locator(".task-row")).to_have_count(1)
    expect(row(page, PUBLIC)).to_be_visible()
    page.click("#status-filter")
    page.get_by_role("option", name="Completed").click()
    expect(page.locator(".task-row")).to_have_count(0)
    expect(page.locator("#tasks-empty")).to_contain_text("No task matches these filters.")
    page.click("#status-filter")
    page.get_by_role("option", name="Sending").click()
    expect(page.locator(".task-row")).to_have_count(1)
    shot(page, "sms-tasks-filtered")
    # Execution Failed says why on hover (the demo's history holds rounds that ended abnormally)
    page.click("#reset-filters")
    page.click("#status-filter")
    page.get_by_role("option", name="Execution Failed").click()
    failed = served("marketer", status="execution_failed")
    assert failed, "the demo has failed SMS rounds a marketer can see"
    expect(page.locator(".task-row")).to_have_count(len(failed))
    first = page.locator(f'.task-row[data-id="{failed[0].id}"]')
    first.locator(".status-why").hover()
    expect(page.get_by_role("tooltip")).to_have_text(failed[0].status_reason)
    shot(page, "execution-failed-why")
    page.click("#reset-filters")
    page.click("#activity-filter")
    page.get_by_role("option", name=PUBLIC).click()
    expect(page.locator(".task-row")).to_have_count(1)
    expect(row(page, PUBLIC)).to_be_visible()

    # another marketer's private activity: its task is in no list of this marketer, nor reachable by URL
    wait_until(lambda: any(t.activity_id == private_id and t.sent for t in served("marketer2")),
               "the private round to send")
    page.click("#reset-filters")
    wait_until(lambda: names(page) != [], "the unfiltered list")
    assert all(not n.startswith(PRIVATE) for n in names(page))
    assert all(t.activity_id != private_id for t in served("marketer"))
    page.goto(f"{stack.url}/reach/sms?activity={private_id}")
    expect(page.locator("#reach-error")).to_have_text("Activity not found.")
    expect(page.locator(".task-row")).to_have_count(0)
    shot(page, "private-task-by-url")

    # ...while its creator sees it, with the engine's numbers
    page.click("#logout")
    page.wait_for_url("**/login")
    sign_in(page, stack.url, "marketer2")
    page.add_init_script("""window.__noChannel = 0; new MutationObserver(() => {
        if ((document.body?.textContent || "").includes("No reach channel")) window.__noChannel += 1;
    }).observe(document, {subtree: true, childList: true, characterData: true});""")  # any moment it showed
    page.goto(f"{stack.url}/reach/text_sms?activity={private_id}")  # the component type's name: its channel page
    page.wait_for_url(f"**/reach/sms?activity={private_id}")
    [mine] = [t for t in served("marketer2") if t.activity_id == private_id]
    wait_until(lambda: numbers(page, PRIVATE).get("audience") == mine.audience > 0, "the creator's private task")
    assert page.evaluate("window.__noChannel") == 0  # no part of the page ever took text_sms for a channel
    shot(page, "private-task-creator")


def normal_row(page: Page, name: str):  # noqa: ANN201 — a Locator
    return page.locator(f'.normal-row[data-name="{name}"]')


def new_task(page: Page, name: str, content: str, audience: str, *, at: str = "") -> None:
    page.click("#new-task")
    page.fill("#normal-name", name)
    page.fill("#normal-content", content)
    page.click("#normal-audience")
    page.get_by_role("option", name=audience).click()
    if at:
        page.locator("#normal-timing").get_by_text("At a time", exact=True).click()
        page.fill("#normal-send-at", at)


def test_normal_tasks_moderated_sent_edited_and_deleted(stack: LiveStack, page: Page, shot: Shot) -> None:
    people = [c for c in customers(60, offset=300) if c.phone][:30]
    audience_of("Reach normal crowd", people)
    with db.write_session() as session:
        moderation.set_words(session=session, actor=actor(session, "admin"), words=["lottery"])
        zone = local_time.workspace_time_zone(session=session, actor=actor(session, "marketer"))
    sign_in(page, stack.url, "marketer")
    page.goto(f"{stack.url}/reach/sms")

    # one for later: Moderating, then To be sent; editable (more than 5 minutes ahead)
    later = local_time.format_local(clock.now() + timedelta(hours=2), zone)
    new_task(page, "Normal: weekend promo", "Hi {name}, weekend promo!", "Reach normal crowd", at=later)
    expect(page.locator("#normal-segments")).to_have_text("1 SMS segment (27 GSM characters)")
    page.fill("#normal-content", "你好" * 40)
    expect(page.locator("#normal-segments")).to_have_text("2 SMS segments (80 Unicode characters)")
    page.fill("#normal-content", "Hi {name}, weekend promo!")
    shot(page, "normal-task-new")
    page.click("#normal-save")
    promo = normal_row(page, "Normal: weekend promo")
    expect(promo).to_be_visible()
    expect(promo).to_have_attribute("data-status", "to_be_sent")  # moderated by the scheduler's tick
    expect(promo.locator(".edit-task")).to_be_enabled()

    # a banned word: Rejected, with the reason on hover; a rejected task can be edited
    new_task(page, "Normal: lottery", "Win the LOTTERY, {name}", "Reach normal crowd")
    page.click("#normal-save")
    rejected = normal_row(page, "Normal: lottery")
    expect(rejected).to_have_attribute("data-status", "rejected")
    rejected.locator(".status-why").hover()
    expect(page.get_by_role("tooltip")).to_have_text("Contains banned word “lottery”.")
    expect(rejected.locator(".edit-task")).to_be_enabled()
    shot(page, "normal-task-rejected")

    # send now: the engine sends it through the SMS channel; a sent task cannot be changed, its details open
    new_task(page, "Normal: thank you", "Thanks, {name}!", "Reach normal crowd")
    page.click("#normal-save")
    thanks = normal_row(page, "Normal: thank you")
    expect(thanks).to_have_attribute("data-status", re.compile("sending|completed"), timeout=60_000)
    wait_until(lambda: thanks.get_attribute("data-sent") == str(len(people)), "the 30 SMS to be sent")
    expect(thanks.locator(".kind-badge")).to_have_text("Normal")  # in the task table, type Normal
    expect(thanks.locator(".edit-task")).to_be_disabled()
    thanks.locator(".delete-task").hover()
    expect(page.get_by_role("tooltip")).to_have_text("It has been sent: a sent task cannot be changed.")
    shot(page, "normal-task-sent")
    thanks.get_by_role("link", name="View Details").click()
    page.wait_for_url("**/reach/sms/*-sms")
    expect(page.locator('[data-count="included"] .count-value')).to_have_text(str(len(people)))
    shot(page, "normal-task-details")

    # delete the scheduled one (still more than 5 minutes ahead)
    page.goto(f"{stack.url}/reach/sms")
    promo = normal_row(page, "Normal: weekend promo")
    promo.locator(".delete-task").click()
    page.click("#normal-delete-ok")
    expect(promo).to_have_count(0)
    # another marketer sees none of them
    page.click("#logout")
    page.wait_for_url("**/login")
    sign_in(page, stack.url, "marketer2")
    page.goto(f"{stack.url}/reach/sms")
    expect(page.locator(".task-row").first).to_be_visible()
    expect(page.locator(".normal-row")).to_have_count(0)


def test_an_email_normal_task_in_the_task_table_with_the_type_filter(stack: LiveStack, page: Page,
                                                                     shot: Shot) -> None:
    people = [c for c in customers(40, offset=400) if c.email][:12]
    audience_of("Reach email crowd", people)
    sign_in(page, stack.url, "marketer")
    page.goto(f"{stack.url}/reach/email")
    page.click("#new-task")
    expect(page.locator("#normal-signature")).to_have_count(0)  # the Email form: subject and body
    page.fill("#normal-name", "Normal: email digest")
    page.fill("#normal-subject", "Your digest, {name}")
    page.fill("#normal-content", "Hello {name}, here is what is new.")
    page.click("#normal-audience")
    page.get_by_role("option", name="Reach email crowd").click()
    shot(page, "normal-email-new")
    page.click("#normal-save")
    digest = normal_row(page, "Normal: email digest")
    expect(digest).to_have_attribute("data-status", "completed", timeout=60_000)
    wait_until(lambda: digest.get_attribute("data-success") == str(len(people)), "every email accepted by SMTP")
    expect(digest.locator('[data-col="content"]')).to_contain_text("Your digest, {name}")
    # the Type filter: Normal keeps it, Flow drops it; the total follows
    page.click("#kind-filter")
    page.get_by_role("option", name="Normal", exact=True).click()
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.locator("#total-count")).to_have_text("Total 1")
    shot(page, "normal-email-type-filter")
    page.click("#kind-filter")
    page.get_by_role("option", name="Flow", exact=True).click()
    expect(digest).to_have_count(0)


def details_of(username: str, task_id: str) -> TaskDetails:
    with db.read_session() as session:
        return task_details(session=session, actor=actor(session, username), channel="sms", task_id=task_id,
                            page_size=100)


def shown_counts(page: Page) -> dict[str, str]:
    return {k: page.locator(f'[data-count="{k}"] .count-value').inner_text()
            for k in ("included", "success", "failed", "pending")}


def test_task_details_numbers_preview_generate_audience_and_expiry(stack: LiveStack, page: Page,
                                                                   shot: Shot) -> None:
    people = [c for c in customers(80, offset=200) if c.phone][:40]
    audience = audience_of("Reach details crowd", people)
    activity_id = publish(DETAILED, {"nodes": [node("t", "target_audience", 0, audience_id=audience),
                                               node("sms", "text_sms", 300, content="Hi {name}, your coupon {code}",
                                                    signature="Shop"),
                                               node("e", "end", 600)],
                                     "edges": [edge("t", "sms"), edge("sms", "e")]})
    wait_until(lambda: any(t.activity_id == activity_id and t.sent == len(people) for t in served("marketer")),
               "the round to send to the 40 numbers")
    [task] = [t for t in served("marketer") if t.activity_id == activity_id]

    sign_in(page, stack.url, "marketer")
    page.goto(f"{stack.url}/reach/sms?activity={activity_id}")
    row(page, DETAILED).get_by_role("link", name="View Details").click()
    page.wait_for_url(f"**/reach/sms/{task.id}")
    expect(page.locator("#page-title")).to_have_text(f"{DETAILED} · round 1")
    expect(page.locator("#task-content")).to_have_text("【Shop】Hi {name}, your coupon {code}")
    expect(page.locator("#task-segments")).to_have_text("1 SMS segment")

    # counts: Refresh shows the engine's numbers as receipts arrive
    def same_counts() -> bool:
        page.click("#refresh-button")
        got = details_of("marketer", task.id)
        want = {"included": f"{got.included:,}", "success": f"{got.success:,}", "failed": f"{got.failed:,}",
                "pending": f"{got.no_feedback:,}"}
        return got.success + got.failed + got.no_feedback == len(people) and shown_counts(page) == want
    wait_until(same_counts, "Refresh to show the engine's counts")
    got = details_of("marketer", task.id)
    assert got.included == len(people) and got.success > 0

    # numbers: the last four digits only, each with its result (and the provider's reason when failed)
    expect(page.locator(".number-row")).to_have_count(min(got.total, 20))
    numbers_shown = page.locator(".number-row").evaluate_all("rs => rs.map(r => r.dataset.number)")
    assert all(re.fullmatch(r"•••• \d{4}", n) for n in numbers_shown), numbers_shown
    text = page.locator("#task-numbers").inner_text()
    assert not any(p.phone and p.phone[-8:] in text for p in people), "a full number is shown"
    shot(page, "task-details", full=True)
    page.click("#result-filter")
    page.get_by_role("option", name="Failed").click()
    expect(page.locator("#numbers-total")).to_have_text(f"Total {got.failed + got.not_sent}")
    results = page.locator(".number-row").evaluate_all("rs => rs.map(r => r.dataset.result)")
    assert results and set(results) == {"failed"}
    shot(page, "task-details-failed-numbers")

    # Preview: the message as a recipient reads it
    page.click("#preview-button")
    expect(page.locator("#preview-text")).to_have_text("【Shop】Hi Alex Chen, your coupon [code]")
    shot(page, "task-preview")
    page.keyboard.press("Escape")

    # Generate Audience from the failed numbers: Generate Crowd's worker builds it, with progress, then Done
    page.click("#generate-audience")
    page.locator("#audience-result").get_by_text("Failed", exact=True).click()
    page.fill("#audience-name", "Details: SMS failed")
    page.click("#audience-submit")
    operation = page.locator('.audience-operation[data-name="Details: SMS failed"]')
    expect(operation).to_be_visible()
    expect(operation).to_have_attribute("data-status", "done", timeout=60_000)
    with db.read_session() as session:
        saved = session.exec(select(Audience).where(Audience.name == "Details: SMS failed")).one()
        members = session.exec(select(func.count()).select_from(AudienceMember)
                               .where(AudienceMember.audience_id == saved.id)).one()
    assert members == got.failed + got.not_sent
    shot(page, "generate-audience-done")

    # another marketer: the private activity's task is not found, also by its address
    page.click("#logout")
    page.wait_for_url("**/login")
    sign_in(page, stack.url, "marketer2")
    page.goto(f"{stack.url}/reach/sms/{task.id}")
    expect(page.locator("#task-error")).to_have_text("Task not found.")
    shot(page, "task-details-other-marketer")

    # a week after the send: the details expired, Generate Audience is refused (the engine clock moved for all)
    with db.read_session() as session:
        started = session.get(ExecutionRecord, task.record_id).started_at
    try:
        CLOCK_FILE.write_text((started + timedelta(days=7, minutes=1)).isoformat())
        assert clock.now() > started + timedelta(days=7)
        page.click("#logout")
        page.wait_for_url("**/login")
        sign_in(page, stack.url, "marketer")
        page.goto(f"{stack.url}/reach/sms/{task.id}")
        expect(page.locator("#expired-note")).to_contain_text("expired")
        expect(page.locator("#generate-audience")).to_be_disabled()
        expect(page.locator(".number-row")).to_have_count(0)
        expect(page.locator("#numbers-empty")).to_have_text("The numbers are no longer kept.")
        shot(page, "task-details-expired")
    finally:
        CLOCK_FILE.write_text("")
