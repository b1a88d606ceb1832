"""Issue 16 in the browser, on a real running engine (tests/browser/live.py): the marketer sets a conversion
goal, exit on the goal and a holdout group in the canvas's Basic information dialog (a bad event name is
refused with the flow editor's words), saves; the activity runs on behaviour events posted to the events API;
goal events convert customers (held out or not) and take the waiting ones out of the flow; the analysis panel
shows the round's conversions, rate, exits and the split's branches, the Execution Records drawer the numbers
per version and round with the uplift chart. Screenshots of each."""

import re

import pytest
from playwright.sync_api import Page, expect

from engine import db
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.goal_results import goal_report
from engine.shared.goal_rules import GoalSettings, held_out
from tests.browser.canvas_ui import open_canvas
from tests.browser.conftest import Shot
from tests.browser.execution_ui import (
    actor,
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
from tests.browser.ui import menu_action, search, sign_in

pytestmark = pytest.mark.browser
VISIT, PAID = "goals_visit", "goals_paid"
NAME = "Goals: visit follow-up"


stack = module_stack()


def flow() -> dict:
    """Behaviour Event → Random Grouping 50/50: group 1 → Text SMS → End; group 2 → Wait Until 1 h → SMS → End."""
    return {"nodes": [node("t", "behavior_event", 0, 100, event=VISIT, times=1, window_hours=24),
                      node("rg", "random_grouping", 300, 100, groups=[{"ratio": 50}, {"ratio": 50}]),
                      node("sms", "text_sms", 600, 0, content="Hi {name}"),
                      node("w", "wait_until", 600, 240, mode="period", hours=1),
                      node("sms2", "text_sms", 900, 240, content="Still there, {name}?"),
                      node("e1", "end", 900, 0), node("e2", "end", 1200, 240)],
            "edges": [edge("t", "rg"), edge("rg", "sms", "group_1"), edge("rg", "w", "group_2"), edge("sms", "e1"),
                      edge("w", "sms2"), edge("sms2", "e2")]}


def report(activity_id: int):  # noqa: ANN201
    with db.read_session() as session:
        return goal_report(session=session, actor=actor(session, "marketer"), activity_id=activity_id)


def test_goal_exit_and_holdout_set_in_the_dialog_and_read_in_the_execution_views(stack: LiveStack, page: Page,
                                                                                   shot: Shot) -> None:
    with db.write_session() as session:
        created = svc.create_activity(session=session, actor=actor(session, "marketer"), flow=flow(),
                                      data=ActivityInput(name=NAME))
        activity_id = int(created.id)  # type: ignore[arg-type]
    sign_in(page, stack.url, "marketer")
    open_canvas(page, stack.url, activity_id, mode="edit")
    page.click("#canvas-edit-info")
    expect(page.locator("#goal-settings")).to_be_visible()
    page.fill("#goal-event", "goals paid!")
    page.click("#info-submit")
    expect(page.locator("#info-error")).to_contain_text("Goal event: an event name is letters, digits and _ . : -")
    page.fill("#goal-event", PAID)
    page.fill("#goal-days", "3")
    page.click("#goal-exit-on-goal")
    page.fill("#goal-exit-events", "goals_optout, goals_unsubscribe")
    page.click("#goal-attr-op")
    page.get_by_role("option", name="equals", exact=True).click()
    page.fill("#goal-attr-name", "vip")
    page.fill("#goal-attr-value", "true")
    page.fill("#goal-holdout", "60")
    page.click("#info-submit")
    expect(page.locator("#info-error")).to_have_text("The holdout group is 0 to 50 % of the entrants.")
    page.fill("#goal-holdout", "25")
    expect(page.locator("#info-error")).to_have_count(0)  # an edit clears the refusal
    page.locator("#goal-settings").scroll_into_view_if_needed()
    shot(page, "basic-information-goal")
    page.click("#info-submit")
    expect(page.locator("#info-dialog")).to_have_count(0)
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    with db.write_session() as session:
        user = actor(session, "marketer")
        saved = svc.activity_input(session=session, actor=user, activity_id=activity_id).goal
        assert saved == GoalSettings(goal_event=PAID, goal_days=3, exit_on_goal=True, holdout_pct=25,
                                     exit_events=["goals_optout", "goals_unsubscribe"],
                                     exit_attributes=[{"property": "vip", "op": "eq", "value": True}])
        svc.publish(session=session, actor=user, activity_id=activity_id)

    people = customers(40, offset=700)
    wait_until(lambda: bool(rounds(activity_id)), "the round")
    send_events(stack, [c.qaid for c in people], VISIT)
    held = held_out(activity_id, 25, [int(c.id) for c in people])  # type: ignore[arg-type]
    wait_until(lambda: report(activity_id).rounds and report(activity_id).rounds[0].entered == 40, "40 entrants")
    assert report(activity_id).rounds[0].holdout.customers == len(held) > 0
    # the analysis panel of the split, open while the goal events arrive: it follows them without a click
    open_canvas(page, stack.url, activity_id, mode="details")
    exec_bar(page, "rg").click()
    section = page.locator("#analysis-goal")
    expect(section).to_contain_text(f"{PAID} within 3 days")
    first_round = section.locator('#analysis-goal-rounds tr[data-label="Round 1"]')
    expect(first_round).to_have_attribute("data-converted", "0")
    # every held-out customer converts, and four treated ones; those waiting in group 2 leave the flow at once
    treated = [c for c in people if int(c.id) not in held][:4]  # type: ignore[arg-type]
    converting = [c for c in people if int(c.id) in held] + treated  # type: ignore[arg-type]
    send_events(stack, [c.qaid for c in converting], PAID)
    wait_until(lambda: report(activity_id).rounds[0].all.converted == len(converting), "the conversions")
    got = report(activity_id)
    round1 = got.rounds[0]
    assert round1.treated.converted == 4 and round1.holdout.converted == len(held)
    assert round1.uplift is not None and round1.uplift.difference < 0
    waiting = sum(b.converted for b in got.branches if b.branch == "group_2")
    assert round1.exited == waiting
    expect(first_round).to_have_attribute("data-converted", str(len(converting)), timeout=30_000)
    expect(section.locator("#analysis-goal-rounds")).to_contain_text(f"4 / {40 - len(held)}")
    for b in got.branches:
        expect(section.locator(f'tr[data-branch="rg:{b.branch}"]')).to_have_attribute("data-converted",
                                                                                     str(b.converted))
    expect(section.locator("#analysis-goal-uplift .js-plotly-plot")).to_be_visible()
    section.scroll_into_view_if_needed()
    shot(page, "analysis-panel-goal")
    # the cards: the trigger's held-out customers, the wait's exits (shown once there are any)
    expect(exec_bar(page, "t").locator('[data-item="held_out"] .fc-exec-value')).to_have_text(str(len(held)))
    exited_item = exec_bar(page, "w").locator('[data-item="exited"] .fc-exec-value')
    if waiting:
        expect(exited_item).to_have_text(str(waiting))
    else:
        expect(exited_item).to_have_count(0)
    expect(exec_bar(page, "sms")).not_to_contain_text("Exited")  # nobody exited at the first touch

    # the Execution Records drawer: per version and per round, with the uplift chart
    page.goto(stack.url + "/")
    search(page, NAME)
    menu_action(page, NAME, "records")
    drawer = page.locator("#records-drawer")
    expect(drawer).to_be_visible()
    versions = drawer.locator("#records-goal-versions")
    expect(versions.locator('tr[data-label="V1"]')).to_have_attribute("data-converted", str(len(converting)))
    expect(versions).to_contain_text(f"{len(held)} / {len(held)}")  # the holdout: all converted
    expect(drawer.locator("#records-goal-uplift .js-plotly-plot")).to_be_visible()
    expect(drawer.locator('#records-goal-rounds tr[data-label="Round 1"] td').last).to_have_text(str(round1.exited))
    drawer.locator("#records-goal").scroll_into_view_if_needed()
    shot(page, "records-drawer-goal")
