"""Execution Records' actions for real, in the browser, on a running engine (tests/browser/live.py): View opens
the canvas on that round with its numbers; Stop stops the round — the engine routes nobody further into it while
a periodic activity stays In Progress for its next cycles (the next cycle itself: tests/engine/runtime/
test_record_actions.py, on a test clock); Re-run after a crowd-data failure makes a round the engine runs."""

import re

import pytest
from playwright.sync_api import Page, expect

from engine import db
from engine.models import Audience, AudienceKind, Schedule
from engine.status import ActivityStatus, RecordStatus
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    activity,
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
from tests.browser.ui import back_to_list, dismiss_toasts, menu_action, row, search, sign_in, toast

pytestmark = pytest.mark.browser
EVENT = "exec_records_visit"


stack = module_stack()


def open_records(page: Page, name: str):  # noqa: ANN201 — the drawer
    search(page, name)
    menu_action(page, name, "records")
    drawer = page.locator("#records-drawer")
    expect(drawer).to_be_visible()
    return drawer


def record_row(drawer, number: int):  # noqa: ANN001, ANN201
    return drawer.locator(f'.record-row[data-number="#{number}"]')


def test_stop_from_the_drawer_stops_routing_and_view_shows_the_stopped_round(stack: LiveStack, page: Page,
                                                                               shot: Shot) -> None:
    name = "Daily visit follow-up"
    flow = {"nodes": [node("t", "behavior_event", 0, event=EVENT, times=1, window_hours=24),
                      node("sms", "text_sms", 300, content="Hi {name}"), node("e", "end", 600)],
            "edges": [edge("t", "sms"), edge("sms", "e")]}
    activity_id = publish(name, flow, schedule=Schedule.DAILY)
    people = customers(8, offset=500)
    send_events(stack, [c.qaid for c in people[:3]], EVENT)
    wait_until(lambda: view("marketer", activity_id).nodes["e"].values == [("reached", 3)], "three customers through")
    [first] = rounds(activity_id)

    sign_in(page, stack.url, "marketer")
    drawer = open_records(page, name)
    expect(record_row(drawer, 1).locator(".record-status")).to_have_text("In Progress")
    record_row(drawer, 1).locator('[data-action="stop"]').click()
    page.click("#record-stop-confirm")
    toast(page, f"Stopped round #1 of “{name}”.")
    expect(record_row(drawer, 1).locator(".record-status")).to_have_text("Stopped")
    shot(page, "drawer-round-stopped")
    assert activity(activity_id).status == ActivityStatus.IN_PROGRESS  # periodic: its next cycles still run
    assert rounds(activity_id)[0].status == RecordStatus.STOPPED

    # the engine routes nobody further into the stopped round: later events enter no round. A sentinel activity
    # on the same event takes the same events through the same entry: once they reached its End, the engine
    # has decided where they go (no guessed pause)
    sentinel_flow = {"nodes": [node("t", "behavior_event", 0, event=EVENT, times=1, window_hours=24),
                               node("e", "end", 300)], "edges": [edge("t", "e")]}
    sentinel = publish("Stop sentinel", sentinel_flow, schedule=Schedule.DAILY)
    send_events(stack, [c.qaid for c in people[3:]], EVENT)
    wait_until(lambda: view("marketer", sentinel).nodes["e"].values == [("reached", 5)], "the sentinel's five")
    stopped = view("marketer", activity_id, record_id=first.id)
    assert dict(stopped.nodes["t"].values) == {"met": 3, "entered": 3} and not stopped.live
    assert len(rounds(activity_id)) == 1

    # View on the stopped round: its version, its numbers, not live
    dismiss_toasts(page)
    record_row(drawer, 1).locator('[data-action="view"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity_id}/canvas\?record={first.id}$"))
    expect(page.locator("#canvas-record-label")).to_have_text("Round #1 · Stopped")
    expect(page.locator("#canvas-record")).to_have_attribute("data-live", "false")
    expect(exec_bar(page, "t")).to_have_attribute("data-entered", "3")
    expect_numbers(page, view("marketer", activity_id, record_id=first.id))
    shot(page, "stopped-round-on-canvas")
    back_to_list(page, stack.url)
    search(page, name)
    expect(row(page, name).locator(".status-badge")).to_have_text("In Progress")


def test_rerun_after_a_crowd_data_failure_makes_a_round_the_engine_runs(stack: LiveStack, page: Page,
                                                                         shot: Shot) -> None:
    name = "Re-run after a broken audience"
    audience_id = audience_of("Re-run audience", customers(20, offset=700))
    with db.write_session() as session:  # the audience cannot be materialised: crowd data fails
        audience = session.get(Audience, audience_id)
        audience.kind = AudienceKind.RULE
        audience.rule = {"all": [{"field": "attr:level", "op": "no-such-op", "value": 1}]}
        session.add(audience)
    flow = {"nodes": [node("t", "target_audience", 0, audience_id=audience_id),
                      node("tag", "tag", 300, tag="rerun_seen", value="yes"), node("e", "end", 600)],
            "edges": [edge("t", "tag"), edge("tag", "e")]}
    activity_id = publish(name, flow)
    wait_until(lambda: rounds(activity_id)[0].status == RecordStatus.ABNORMAL_END, "the crowd-data failure")
    assert rounds(activity_id)[0].failure_kind == "crowd_data"
    with db.write_session() as session:  # the audience is fixed
        audience = session.get(Audience, audience_id)
        audience.kind, audience.rule = AudienceKind.STATIC, {}
        session.add(audience)

    sign_in(page, stack.url, "marketer")
    drawer = open_records(page, name)
    expect(record_row(drawer, 1).locator(".record-status")).to_have_text("Abnormal End")
    shot(page, "drawer-crowd-data-failure")
    record_row(drawer, 1).locator('[data-action="rerun"]').click()
    toast(page, "Re-run started as round #2.")
    wait_until(lambda: len(rounds(activity_id)) == 2 and rounds(activity_id)[1].status == RecordStatus.COMPLETED,
               "the re-run to complete")
    rerun = rounds(activity_id)[1]
    assert rerun.trigger == "rerun" and rerun.rerun_of_id == rounds(activity_id)[0].id
    expect(record_row(drawer, 2).locator(".record-status")).to_have_text("Completed")  # the open drawer follows it
    shot(page, "drawer-rerun-completed")
    record_row(drawer, 2).locator('[data-action="view"]').click()
    page.wait_for_url(re.compile(rf".*/activities/{activity_id}/canvas\?record={rerun.id}$"))
    expect(page.locator("#canvas-record-label")).to_have_text("Round #2 · Completed")
    engine_view = view("marketer", activity_id, record_id=rerun.id)
    assert dict(engine_view.nodes["t"].values) == {"met": 20, "entered": 20}
    expect_numbers(page, engine_view)
    shot(page, "rerun-round-on-canvas")


def test_a_republish_shows_the_draining_round_and_the_live_one(stack: LiveStack, page: Page, shot: Shot) -> None:
    """Issue 12 part 6: V2 published while V1's customers wait an hour; the drawer badges round #1 Draining and
    round #2 Live, Manage Versions calls V1 Draining (not just Superseded), as the services say."""
    from engine.services import activities as svc
    from engine.services import versions as version_service
    from engine.services.audiences import add_members
    from tests.browser.execution_ui import actor

    name = "Republished while waiting"
    audience_id = audience_of("Republish audience", customers(12, offset=800))

    def flow(text: str) -> dict:
        return {"nodes": [node("t", "target_audience", 0, audience_id=audience_id),
                          node("sms", "text_sms", 250, content=text),
                          node("w", "wait_until", 500, mode="period", hours=1), node("e", "end", 750)],
                "edges": [edge("t", "sms"), edge("sms", "w"), edge("w", "e")]}

    activity_id = publish(name, flow("V1 {name}"))
    wait_until(lambda: dict(view("marketer", activity_id).nodes["w"].values).get("entered") == 12, "V1 waiting")
    with db.write_session() as session:  # three new members, then V2: they are its customers, nobody else
        add_members(session=session, audience_id=audience_id,
                    customer_ids=[int(c.id) for c in customers(3, offset=812)])  # type: ignore[arg-type]
        svc.publish(session=session, actor=actor(session, "marketer"), activity_id=activity_id, flow=flow("V2 {name}"))
    wait_until(lambda: len(rounds(activity_id)) == 2 and dict(view("marketer", activity_id).nodes["w"].values)
               .get("entered") == 3, "V2's round holds the three new members only")

    sign_in(page, stack.url, "marketer")
    drawer = open_records(page, name)
    expect(record_row(drawer, 1)).to_have_attribute("data-role", "draining")
    expect(record_row(drawer, 1).locator(".record-role")).to_have_text("Draining")
    expect(record_row(drawer, 2)).to_have_attribute("data-role", "live")
    expect(record_row(drawer, 2).locator(".record-role")).to_have_text("Live")
    expect(record_row(drawer, 1).locator(".record-status")).to_have_text("In Progress")
    shot(page, "drawer-draining-and-live")
    page.keyboard.press("Escape")
    expect(page.locator("#records-drawer")).to_have_count(0)
    menu_action(page, name, "versions")
    versions_drawer = page.locator("#versions-drawer")
    expect(versions_drawer).to_be_visible()
    with db.read_session() as session:
        labels = [v.status_label for v in version_service.list_versions(
            session=session, actor=actor(session, "marketer"), activity_id=activity_id)]
    assert labels == ["In Progress", "Draining"]
    expect(versions_drawer.locator(".version-status")).to_have_text(labels)
    shot(page, "versions-draining")
