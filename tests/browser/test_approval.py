"""Seed 004 in the browser, on a real running engine (tests/browser/live.py): an admin requires approval and gives
the manager a staff contact (issue 14); a marketer adds a customer tester and the manager as a staff tester, tests
(both receive the marked test SMS in the provider simulator, the real audience nothing), requests to go live; the
canvas header shows the approval status with its latest decision; the reviewer sees the request with its changes
in /reviews, rejects it (a comment is required), then approves the next request: the activity runs for the real
audience; the history on the details page keeps every decision; the list shows the approval status and filters by
it."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from engine import db
from engine.models import Activity, ExecutionRecord
from engine.services import activities as acts
from engine.services.activities import ActivityInput
from tests.browser.conftest import Shot
from tests.browser.execution_ui import actor, audience_of, customers, edge, module_stack, node, wait_until
from tests.browser.live import LiveStack
from tests.browser.ui import back_to_list, expect_tooltip, sign_in, sign_out, toast

pytestmark = pytest.mark.browser
NAME = "Approval: spring launch SMS"
STAFF_PHONE = "+8613700009999"  # issue 14: the manager's staff contact


stack = module_stack()


def sim_messages(stack: LiveStack) -> list[dict]:
    response = httpx.get(f"{stack.env['PROVIDER_URL']}/admin/messages", params={"limit": 100000}, timeout=30)
    return response.json()["messages"]


def of_records(stack: LiveStack, record_ids: list[int]) -> list[dict]:
    """The simulator's messages of these rounds (a message id is <record>:<node>:<customer>)."""
    prefixes = tuple(f"{r}:" for r in record_ids)
    return [m for m in sim_messages(stack) if m["id"].startswith(prefixes)]


def records(activity_id: int, *, test: bool) -> list[int]:
    with db.read_session() as session:
        return [int(i) for i in session.exec(select(ExecutionRecord.id).where(
            ExecutionRecord.activity_id == activity_id, ExecutionRecord.is_test == test))]


def status_of(activity_id: int) -> tuple[str, str | None]:
    with db.read_session() as session:
        a = session.get(Activity, activity_id)
        assert a is not None
        return str(a.status), a.approval_status


def test_test_request_reject_approve_and_the_history(stack: LiveStack, page: Page, shot: Shot) -> None:
    people = [c for c in customers(40) if c.phone]
    audience, tester = people[:10], people[20]
    audience_id = audience_of("Approval real audience", audience)
    flow = {"nodes": [node("t", "target_audience", 0, audience_id=audience_id),
                      node("sms", "text_sms", 300, content="Spring is here, {name}"), node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}
    with db.write_session() as session:
        created = acts.create_activity(session=session, actor=actor(session, "marketer"), flow=flow,
                                       data=ActivityInput(name=NAME))
        created.is_public = True
        activity_id = int(created.id)  # type: ignore[arg-type]
    details = f"{stack.url}/activities/{activity_id}/approval"

    # an admin switches the workspace to "approval required"
    sign_in(page, stack.url, "admin")
    expect(page.locator("#approval-required")).not_to_be_disabled()
    expect(page.locator("#approval-filter")).to_have_count(0)  # no approval, no Approval column nor its filter
    page.click("#approval-required")
    toast(page, "Approval is now required")
    expect(page.locator("#approval-filter")).to_be_visible()
    expect(page.locator("th.col-approval")).to_be_visible()
    expect(page.get_by_role("link", name="Reviews")).to_be_visible()
    shot(page, "admin-requires-approval")
    # issue 14: the admin gives the manager a staff contact (checked like a customer's), so a test can reach them
    page.goto(f"{stack.url}/settings/users")
    page.locator('.user-row[data-username="manager"] .edit-contact').click()
    page.fill("#contact-phone", "call me")
    page.click("#contact-submit")
    expect(page.locator("#settings-dialog-error")).to_contain_text("is not a phone number")
    page.fill("#contact-phone", STAFF_PHONE)
    shot(page, "staff-contact-dialog")
    page.click("#contact-submit")
    toast(page, "Contact of “Max Manager” saved")
    expect(page.locator('.user-row[data-username="manager"] .user-contact')).to_have_text(STAFF_PHONE)
    sign_out(page)

    # the marketer: nothing goes live untested; a tester, then Test
    sign_in(page, stack.url, "marketer")
    expect(page.get_by_role("link", name="Reviews")).to_have_count(0)
    expect(page.locator("#approval-required")).to_have_count(0)  # an admin's switch; others read it
    expect(page.locator("#approval-setting")).to_have_text("Approval required to go live")
    page.goto(details)
    expect(page.locator("#page-title")).to_have_text(NAME)
    expect(page.locator("#approval-mode")).to_contain_text("requires approval")
    request = page.locator('[data-action="request"]')
    expect(request).to_be_disabled()
    expect_tooltip(page, request.locator(".."), "Only a tested activity (Testing), or a new version of a running "
                   "one, can request to go live. (status: Draft)")
    expect_tooltip(page, page.locator('[data-action="test"]').locator(".."),
                   "Add at least one tester (a customer's QAID or a staff contact) before testing.")
    page.fill("#tester-qaid", tester.qaid)
    page.click('[data-action="add-tester"]')
    expect(page.locator(f'.tester-row[data-qaid="{tester.qaid}"]')).to_be_visible()
    # issue 14: a staff tester, chosen among the users with a contact
    page.select_option("#tester-staff", label=f"Max Manager ({STAFF_PHONE})")
    page.click('[data-action="add-staff"]')
    toast(page, "Staff tester added")
    expect(page.locator('.tester-row[data-kind="Staff"]')).to_contain_text("Max Manager")
    expect(page.locator(".tester-row")).to_have_count(2)
    shot(page, "staff-tester")
    page.click('[data-action="test"]')
    toast(page, "Test started")
    expect(page.locator(".status-badge")).to_have_text("Testing")
    [test_round] = records(activity_id, test=True)
    wait_until(lambda: len(of_records(stack, [test_round])) == 2, "the test SMS to reach the simulator")
    sent = {m["to"]: m for m in of_records(stack, [test_round])}
    assert set(sent) == {tester.phone, STAFF_PHONE}  # the two testers, nobody else
    assert sent[tester.phone]["customer_id"] == tester.id
    assert sent[tester.phone]["body"].startswith("[Test] Spring is here")
    assert sent[STAFF_PHONE]["body"].startswith("[Test] Spring is here")
    assert STAFF_PHONE not in {c.phone for c in audience}
    assert records(activity_id, test=False) == []  # the real audience: no round, nothing sent
    page.reload()
    expect(page.locator(".test-row")).to_have_count(1)
    expect(page.locator(".tester-row")).to_have_count(2)
    expect(page.locator('[data-action="test"]')).to_have_text("Retest")
    shot(page, "tested", full=True)

    page.click('[data-action="request"]')
    toast(page, "Request sent")
    expect(page.locator(".approval-badge")).to_have_text("Under Review")
    expect(page.locator('[data-action="edit"]')).to_be_disabled()
    expect_tooltip(page, page.locator('[data-action="edit"]').locator(".."),
                   "The request to go live is under review: withdraw it first. (status: Testing; approval: "
                   "Under Review)")
    shot(page, "under-review")
    # issue 14: the canvas header shows the approval status beside the task status, linking to the details
    page.goto(f"{stack.url}/activities/{activity_id}/canvas")
    badge = page.locator("#canvas-approval-status")
    expect(badge).to_have_text("Under Review")
    expect(badge).to_have_attribute("title", "Under review, asked by Mia Marketer.")
    shot(page, "canvas-under-review")
    back_to_list(page, stack.url)  # the canvas page has no sidebar (and no Log out)
    sign_out(page)

    # the reviewer: the queue with the changes; Reject needs a comment
    sign_in(page, stack.url, "reviewer")
    page.get_by_role("link", name="Reviews").click()
    page.wait_for_url("**/reviews")
    card = page.locator(f'.review-request[data-name="{NAME}"]')
    expect(card).to_contain_text("Added Target Audience (t)")
    expect(card).to_contain_text("Added Text SMS (sms)")
    shot(page, "review-queue")
    card.locator(".review-reject").click()
    page.click("#decision-submit")
    expect(page.locator("#decision-error")).to_contain_text("comment is required")
    page.fill("#decision-comment", "Name the stores in the text")
    shot(page, "reject-dialog")
    page.click("#decision-submit")
    toast(page, "rejected")
    expect(card).to_have_count(0)
    assert status_of(activity_id) == ("testing", "rejected")
    sign_out(page)

    # the marketer asks again; the reviewer approves: it runs for the real audience
    sign_in(page, stack.url, "marketer")
    page.goto(details)
    expect(page.locator(".approval-badge")).to_have_text("Rejected")
    expect(page.locator(".history-row").first).to_contain_text("Name the stores in the text")
    page.goto(f"{stack.url}/activities/{activity_id}/canvas")
    expect(badge).to_have_text("Rejected")
    expect(badge).to_have_attribute("title", re.compile(r"^Rejected by .*: Name the stores in the text$"))
    shot(page, "canvas-rejected")
    badge.click()
    page.wait_for_url(f"**/activities/{activity_id}/approval")
    page.click('[data-action="request"]')
    toast(page, "Request sent")
    sign_out(page)
    sign_in(page, stack.url, "reviewer")
    page.goto(f"{stack.url}/reviews")
    card.locator(".review-approve").click()
    page.click("#decision-submit")
    toast(page, "approved")
    # published: In Progress (a ten-customer one-time round may already have completed it)
    wait_until(lambda: status_of(activity_id) in (("in_progress", "approved"), ("completed", "approved")),
               "the approved activity to run")
    [real_round] = records(activity_id, test=False)
    wait_until(lambda: len(of_records(stack, [real_round])) == len(audience), "the real audience's SMS")
    real = of_records(stack, [real_round])
    assert {m["customer_id"] for m in real} == {c.id for c in audience}
    assert not any(m["body"].startswith("[Test]") for m in real)
    sign_out(page)

    # the one-time round ends: Completed, which never runs again; the history keeps every decision
    wait_until(lambda: status_of(activity_id)[0] == "completed", "the one-time round to complete the activity")
    sign_in(page, stack.url, "marketer")
    page.goto(details)
    expect(page.locator(".status-badge")).to_have_text("Completed")
    expect(page.locator(".history-row")).to_have_count(4)
    expect(page.locator(".history-row").first).to_contain_text("Approved")
    expect_tooltip(page, page.locator('[data-action="edit"]').locator(".."),
                   "A Completed activity cannot run again: copy it instead. (status: Completed)")
    expect(page.locator('[data-action="finish"]')).to_be_disabled()
    expect(page.locator('[data-action="copy"]')).not_to_be_disabled()
    shot(page, "history", full=True)
    page.goto(f"{stack.url}/")
    page.click("#approval-filter")
    page.get_by_role("option", name="Approved").click()
    row = page.locator(f'.activity-row[data-name="{NAME}"]')
    expect(row.locator(".approval-badge")).to_have_text("Approved")
    expect(page.locator(".activity-row")).to_have_count(1)
    stop = row.locator(".more-trigger")
    stop.click()
    expect(page.locator('.row-menu [data-action="stop"]')).to_have_attribute("aria-disabled", "true")
    shot(page, "list-approval-filter")


def test_withdraw_self_approval_and_complete(stack: LiveStack, page: Page, shot: Shot) -> None:
    """An admin's own request: withdrawn, asked again, never decidable by that admin; a reviewer approves; the
    event-triggered activity runs until Complete ends it for good."""
    tester = [c for c in customers(60) if c.phone][30]
    flow = {"nodes": [node("t", "behavior_event", 0, event="approval_visit", times=1, window_hours=24),
                      node("sms", "text_sms", 300, content="Welcome back"), node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}
    name = "Approval: welcome back"
    with db.write_session() as session:
        admin = actor(session, "admin")
        created = acts.create_activity(session=session, actor=admin, flow=flow, data=ActivityInput(name=name))
        activity_id = int(created.id)  # type: ignore[arg-type]
    details = f"{stack.url}/activities/{activity_id}/approval"

    sign_in(page, stack.url, "admin")
    page.goto(details)
    page.fill("#tester-qaid", tester.qaid)
    page.click('[data-action="add-tester"]')
    expect(page.locator(".tester-row")).to_have_count(1)
    page.click('[data-action="test"]')
    toast(page, "Test started")
    page.click('[data-action="request"]')
    toast(page, "Request sent")
    page.click('[data-action="withdraw"]')
    toast(page, "Request withdrawn")
    expect(page.locator(".approval-badge")).to_have_text("Withdrawn")
    page.click('[data-action="request"]')
    toast(page, "Request sent")
    # nobody decides their own request: the queue says so and its buttons are off
    page.goto(f"{stack.url}/reviews")
    card = page.locator(f'.review-request[data-name="{name}"]')
    expect(card).to_contain_text("You asked: another admin or reviewer decides.")
    expect(card.locator(".review-approve")).to_be_disabled()
    shot(page, "own-request")
    sign_out(page)

    sign_in(page, stack.url, "reviewer")
    page.goto(f"{stack.url}/reviews")
    card.locator(".review-approve").click()
    page.fill("#decision-comment", "Looks good")
    page.click("#decision-submit")
    toast(page, "approved")
    wait_until(lambda: status_of(activity_id) == ("in_progress", "approved"), "the approved activity to run")
    sign_out(page)

    sign_in(page, stack.url, "admin")
    page.goto(details)
    expect(page.locator(".status-badge")).to_have_text("In Progress")
    expect(page.locator('[data-action="withdraw"]')).to_be_disabled()
    shot(page, "running")
    page.click('[data-action="finish"]')
    toast(page, "Completed")
    expect(page.locator(".status-badge")).to_have_text("Completed")
    assert status_of(activity_id)[0] == "completed"
    expect(page.locator('[data-action="test"]')).to_be_disabled()
    expect(page.locator(".history-row")).to_have_count(4)  # requested, withdrawn, requested, approved
    shot(page, "completed", full=True)
