"""Saving and publishing on the canvas in Chromium: publish problems listed and highlighted (and fixed live),
publish now or at the start time, the in-progress cap; leaving unsaved asks first; the pencil's basic
information; the version header, its dropdown and Manage Versions; editing an executed activity makes a new
version; Details and the manager's role show the canvas read-only. Expectations come from the engine."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from engine.demo import TIME_ZONE as ZONE
from engine.flow.validate import validate_flow
from engine.services import versions as version_service
from engine.services.activities import activity_input, publish
from engine.status import ActivityStatus
from tests.browser import expected
from tests.browser.canvas_ui import (
    answer,
    canvas_app,
    canvas_tool,
    card,
    cards,
    click_card,
    configured,
    fill,
    new_activity,
    open_canvas,
    saved,
    settle,
)
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import row, search, sign_in, toast

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def _node(nid: str, type_: str, x: int, y: int, **config: object) -> dict:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}


def _edge(src: str, dst: str, branch: str = "out") -> dict:
    return {"source": src, "branch": branch, "target": dst}


VALID = {"nodes": [_node("n1", "target_audience", 0, 0, audience_id=1),
                   _node("n2", "text_sms", 260, 0, content="Hi {name}"), _node("n3", "end", 520, 0)],
         "edges": [_edge("n1", "n2"), _edge("n2", "n3")]}
FAULTY = {"nodes": [_node("n1", "target_audience", 0, 0, audience_id=1), _node("n2", "text_sms", 260, 0),
                    _node("n3", "ab_test", 520, 0, groups=[{"name": "", "ratio": 50}, {"name": "", "ratio": 50}])],
          "edges": [_edge("n1", "n2"), _edge("n2", "n3")]}


def test_publish_lists_problems_then_publishes(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    aid = new_activity(db, "Publish me", flow=FAULTY)
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")

    # Publish refuses: every problem listed, the faulty components highlighted; nothing saved
    page.click("#canvas-publish")
    toast(page, "The flow cannot be published yet", "error")
    problems = validate_flow(FAULTY)
    window = page.locator("#canvas-problems")
    expect(window.locator(".problem-item")).to_have_count(len(problems))
    expect(window).to_contain_text("Text SMS (n2) is not configured: Content: required.")
    expect(window).to_contain_text("AB Test (n3) is not configured: Target event: required.")
    for nid in {p.node_id for p in problems if p.node_id}:
        expect(card(page, nid)).to_have_attribute("data-problem", "true")
    expect(card(page, "n1")).to_have_attribute("data-problem", "false")
    shot(page, "validation-errors")
    assert saved(db, aid)[0].status == ActivityStatus.DRAFT

    # a problem opens its component; fixing it shortens the list at once
    window.locator('.problem-item[data-node="n2"]').first.click()
    expect(page.locator("#panel-title")).to_have_text("Text SMS")
    fill(page, "content", "Your coupon, {name}")
    configured(page, "n2")
    expect(card(page, "n2")).to_have_attribute("data-problem", "false")
    expect(window.locator('.problem-item[data-node="n2"]')).to_have_count(0)
    click_card(page, "n3")
    fill(page, "target_event", "purchase")
    canvas_tool(page, "add-ends").click()
    expect(window).to_contain_text("No problems left")

    # publish now: back to the list, In Progress, the version published
    page.click("#canvas-publish")
    toast(page, "Published “Publish me”: In Progress now.")
    page.wait_for_url(re.compile(r".*/$"))
    activity, flow = saved(db, aid)
    assert activity.status == ActivityStatus.IN_PROGRESS and activity.live_version_id == activity.current_version_id
    assert validate_flow(flow) == []


def test_publish_waits_for_the_start_time_and_the_cap(app_server: RunningApp, page: Page) -> None:
    db = app_server.database_url
    start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    later = new_activity(db, "Starts in three days", flow=VALID, start_time=start)
    capped = new_activity(db, "Over the cap", flow=VALID)
    sign_in(page, app_server.url, "marketer")

    open_canvas(page, app_server.url, later, mode="edit")
    local = start.astimezone(ZoneInfo(ZONE))  # times read in the workspace's zone
    expect(page.locator("#canvas-times")).to_contain_text(f"Start {local:%Y-%m-%d %H:%M}")
    expect(page.locator("#canvas-times")).to_contain_text(f"({ZONE})")
    page.click("#canvas-publish")
    toast(page, f"Published “Starts in three days”: it starts at {local:%Y-%m-%d %H:%M} {ZONE} "
                "(Not Started until then).")
    page.wait_for_url(re.compile(r".*/$"))
    assert saved(db, later)[0].status == ActivityStatus.NOT_STARTED

    # the workspace's in-progress cap: the engine's message, nothing published
    expected.arrange_cap(db, 1)
    try:
        message = expected.refusal(db, "marketer", lambda s, u: publish(session=s, actor=u, activity_id=capped))
        open_canvas(page, app_server.url, capped, mode="edit")
        page.click("#canvas-publish")
        toast(page, message, "error")
        expect(page).to_have_url(re.compile(rf".*/activities/{capped}/canvas"))
        assert saved(db, capped)[0].status == ActivityStatus.DRAFT
    finally:
        expected.arrange_cap(db, 100)


def test_leave_and_basic_information(app_server: RunningApp, page: Page) -> None:
    db = app_server.database_url
    aid = new_activity(db, "Basic info", flow=VALID)
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")

    # leaving without saving asks first; Stay keeps the page, Leave drops the change
    page.click("#canvas-back")
    page.wait_for_url(re.compile(r".*/$"))  # nothing changed: no question
    open_canvas(page, app_server.url, aid, mode="edit")
    click_card(page, "n2")
    fill(page, "signature", "Shop")
    expect(page.locator("#canvas-dirty")).to_be_visible()
    page.click("#canvas-back")
    expect(page.locator("#canvas-confirm")).to_contain_text("Leave without saving?")
    answer(page, ok=False)
    expect(page).to_have_url(re.compile(rf".*/activities/{aid}/canvas"))
    page.click("#canvas-back")
    answer(page)
    page.wait_for_url(re.compile(r".*/$"))
    assert saved(db, aid)[1]["nodes"][1]["config"] == {"content": "Hi {name}"}

    # the pencil: name, description, sub-activities, start / end, group — kept with Save Draft
    open_canvas(page, app_server.url, aid, mode="edit")
    page.click("#canvas-edit-info")
    dialog = page.locator("#info-dialog")
    expect(page.locator("#info-name")).to_have_value("Basic info")
    page.fill("#info-name", "Basic info, renamed")
    page.fill("#info-description", "Edited from the canvas")
    page.click("#info-campaigns")
    page.locator('#info-campaigns-panel [data-primary="Member Day"]').click()
    page.keyboard.press("Escape")
    expect(page.locator("#info-start-label")).to_have_text(f"Start time ({ZONE})")
    expect(page.locator("#info-start")).to_have_attribute("type", "text")
    page.fill("#info-start", "2031-05-01 09:30")
    expect(page.locator("#info-start-utc")).to_have_text("= 2031-05-01 01:30 UTC")
    page.fill("#info-end", "2031-04-01 9:30")
    page.click("#info-submit")
    expect(page.locator("#info-error")).to_contain_text("End time: enter the date and 24-hour time as YYYY-MM-DD HH:MM")
    page.fill("#info-end", "2031-04-01 09:30")
    page.click("#info-group")
    page.get_by_role("option", name="Loyalty").click()
    page.click("#info-submit")
    expect(page.locator("#info-error")).to_have_text("The end time must be later than the start time.")
    page.fill("#info-end", "2031-06-01 18:00")
    page.click("#info-submit")
    expect(dialog).to_have_count(0)
    expect(page.locator("#canvas-name")).to_have_text("Basic info, renamed")
    expect(page.locator("#canvas-times")).to_contain_text("Start 2031-05-01 09:30 · End 2031-06-01 18:00")
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    data = expected.call(db, "marketer", lambda s, u: activity_input(session=s, actor=u, activity_id=aid))
    assert (data.name, data.description) == ("Basic info, renamed", "Edited from the canvas")
    assert data.start_time is not None and data.start_time.strftime("%Y-%m-%d %H:%M") == "2031-05-01 01:30"  # UTC
    assert data.group_id == expected.group_id(db, "Loyalty")
    assert data.campaign_ids == expected.sub_campaign_ids(db, "Member Day")


#: a text field to change per component type the demo flows use
EDITABLE = {"text_sms": ("signature", "Shop"), "email": ("sender", "Shop <news@shop.example>"),
            "app_push": ("url", "https://shop.example.com")}


def test_versions_executed_activity_details_and_read_only(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    name = "First purchase re-purchase nudge"
    activity = expected.activity(db, name)
    rows = expected.call(db, "marketer", lambda s, u: version_service.list_versions(
        session=s, actor=u, activity_id=activity.id))
    current = next(v for v in rows if v.is_current)
    sign_in(page, app_server.url, "marketer")

    # Edit from the list: the current version, a dropdown of every version, Manage Versions
    search(page, name)
    row(page, name).locator('[data-action="edit"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity.id}/canvas\?mode=edit$"))
    expect(page.locator("#canvas-version")).to_have_text(f"V{current.number}")
    expect(page.locator("#canvas-editing-note")).to_have_text(
        f"Saving creates V{max(v.number for v in rows) + 1}; V{current.number} keeps running until you publish.")
    # the long note gives way to the actions: Publish stays whole on a 1440-pixel screen
    publish = page.locator("#canvas-publish").bounding_box()
    assert publish is not None and publish["x"] + publish["width"] <= page.viewport_size["width"], publish
    page.click("#canvas-version-menu")
    expect(page.locator(".version-choice")).to_have_count(len(rows))
    expect(page.locator(".version-choice")).to_contain_text([f"V{v.number}" for v in rows])
    page.keyboard.press("Escape")
    page.click("#canvas-versions")
    expect(page.locator("#versions-drawer .version-row")).to_have_count(len(rows))
    page.keyboard.press("Escape")
    expect(page.locator("#versions-drawer")).to_have_count(0)

    # an older version from the dropdown: shown read-only
    oldest = rows[-1]
    page.click("#canvas-version-menu")
    page.locator(f'.version-choice[data-version="V{oldest.number}"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity.id}/canvas\?version={oldest.id}$"))
    expect(page.locator("#canvas-version")).to_have_text(f"V{oldest.number}")
    expect(page.locator("#canvas-mode")).to_be_visible()
    expect(page.locator(".fc-palette")).to_have_count(0)
    settle(page)

    # editing the running activity and saving makes a new version; it keeps running
    page.click("#canvas-version-menu")
    page.locator(f'.version-choice[data-version="V{current.number}"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity.id}/canvas\?mode=edit$"))
    _, flow = saved(db, activity.id)
    touch = next(n for n in flow["nodes"] if n["type"] in EDITABLE)
    click_card(page, touch["id"])
    fill(page, *EDITABLE[touch["type"]])
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    after = expected.call(db, "marketer", lambda s, u: version_service.list_versions(
        session=s, actor=u, activity_id=activity.id))
    assert len(after) == len(rows) + 1 and after[0].is_current and after[0].state == "draft"
    assert expected.activity(db, name).status == ActivityStatus.IN_PROGRESS

    # Details: the latest version, read-only — no palette, no tools, the panel shows the configuration
    search(page, name)
    row(page, name).locator('[data-action="details"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity.id}/canvas\?mode=details$"))
    expect(page.locator("#canvas-version")).to_have_text(f"V{after[0].number}")
    expect(page.locator("#canvas-mode")).to_be_visible()
    expect(page.locator(".fc-palette")).to_have_count(0)
    expect(page.locator("#canvas-save")).to_have_count(0)
    expect(page.locator("#canvas-publish")).to_have_count(0)
    expect(page.locator(".fc-plus")).to_have_count(0)
    expect(page.locator(".fc-node-tools")).to_have_count(0)
    expect(canvas_tool(page, "undo")).to_have_count(0)
    count = cards(page).count()
    click_card(page, touch["id"])
    expect(page.locator("#config-panel")).to_have_attribute("data-type", touch["type"])
    path = EDITABLE[touch["type"]][0]
    expect(page.locator(f'#config-panel .panel-field[data-path="{path}"] input')).to_have_attribute("readonly", "")
    page.keyboard.press("Delete")
    expect(page.locator("#canvas-confirm")).to_have_count(0)
    expect(cards(page)).to_have_count(count)
    shot(page, "details-read-only")


def test_manager_reads_only(app_server: RunningApp, page: Page) -> None:
    db = app_server.database_url
    activity = expected.activity(db, "Welcome SMS day 0")
    sign_in(page, app_server.url, "manager")
    open_canvas(page, app_server.url, activity.id, mode="edit")
    expect(page.locator("#canvas-mode")).to_have_attribute(
        "title", "Managers have read-only access: ask a marketer or an admin to do this.")
    expect(page.locator(".fc-palette")).to_have_count(0)
    expect(page.locator("#canvas-publish")).to_have_count(0)
    expect(page.locator("#canvas-edit-info")).to_have_count(0)
