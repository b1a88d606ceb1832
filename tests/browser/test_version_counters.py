"""Counters per version in the browser (issue 16), on a real running engine (tests/browser/live.py): an
event-triggered activity whose V1 customers wait in a Wait Until is republished as V2 without the wait, and new
customers enter V2. The action analysis panel of the Text SMS (in both versions) shows "All versions" and, chosen
in its selector, "V1 (draining)" and "V2 (live)", each number beside its version's label, and follows V2's live
round without a reload; Execution Records names each round's version; the canvas header's
"Per version" dialog lists every component for the chosen version, the wait V2 removed included ("—" in V2)."""


import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from engine import db
from engine.models import User
from engine.services import activities as activity_service
from engine.services import version_counters as vc
from tests.browser.canvas_ui import open_canvas
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
from tests.browser.ui import menu_action, search, sign_in

pytestmark = pytest.mark.browser
VISIT = "vc_visit"
V1_PEOPLE, V2_PEOPLE = 8, 5


stack = module_stack()


def flow(version: str, *, wait: bool) -> dict:
    """Behaviour Event → Text SMS → (Wait Until 1 h →) End."""
    nodes = [node("t", "behavior_event", 0, 100, event=VISIT, times=1, window_hours=24),
             node("sms", "text_sms", 300, 100, content=f"{version}: welcome back {{name}}"),
             node("e", "end", 900, 100)]
    edges = [edge("t", "sms")]
    if wait:
        nodes.append(node("w", "wait_until", 600, 100, mode="period", hours=1))
        edges += [edge("sms", "w"), edge("w", "e")]
    else:
        edges.append(edge("sms", "e"))
    return {"nodes": nodes, "edges": edges}


def counters(activity_id: int) -> vc.VersionCounters:
    with db.read_session() as session:
        user = session.exec(select(User).where(User.username == "marketer")).one()
        return vc.version_counters(session=session, actor=user, activity_id=activity_id)


def cell(activity_id: int, number: int | str, node_id: str) -> tuple[int, int | None] | None:
    got = counters(activity_id)
    version = vc.ALL if number == vc.ALL else str(next(v.version_id for v in got.versions if v.number == number))
    row = got.row(node_id)
    found = row.cell(version) if row else None
    return None if found is None else (found.entries, found.unique)


def choose(page: Page, select_id: str, label: str) -> None:
    page.click(f"#{select_id}")
    page.get_by_role("option", name=label, exact=True).click()
    expect(page.locator(f"#{select_id}")).to_contain_text(label)


def current(page: Page) -> Locator:
    return page.locator("#vc-panel-current")


def test_the_panel_and_the_header_show_numbers_per_version(stack: LiveStack, page: Page, shot: Shot) -> None:
    activity_id = publish("Versions: welcome back", flow("V1", wait=True))
    wait_until(lambda: bool(rounds(activity_id)) and rounds(activity_id)[0].dispatched_at is not None, "round 1")
    people = customers(V1_PEOPLE + V2_PEOPLE + 2, offset=500)
    extra = people[V1_PEOPLE + V2_PEOPLE:]
    send_events(stack, [c.qaid for c in people[:V1_PEOPLE]], VISIT)
    wait_until(lambda: cell(activity_id, 1, "w") == (V1_PEOPLE, V1_PEOPLE), "V1's customers at the wait")
    with db.write_session() as session:  # V2 drops the wait; V1's customers keep waiting on V1 (draining)
        user = session.exec(select(User).where(User.username == "marketer")).one()
        activity_service.publish(session=session, actor=user, activity_id=activity_id, flow=flow("V2", wait=False))
    wait_until(lambda: len(rounds(activity_id)) == 2 and rounds(activity_id)[1].dispatched_at is not None, "round 2")
    send_events(stack, [c.qaid for c in people[V1_PEOPLE:V1_PEOPLE + V2_PEOPLE]], VISIT)
    wait_until(lambda: cell(activity_id, 2, "e") == (V2_PEOPLE, V2_PEOPLE), "V2's customers at the end")

    sign_in(page, stack.url, "marketer")
    search(page, "Versions: welcome back")  # Execution Records: the version each round ran
    expect(page.locator(".activity-row")).to_have_count(1)  # the search's rows are in before the menu opens
    menu_action(page, "Versions: welcome back", "records")
    drawer = page.locator("#records-drawer")
    for number, version, role in ((1, "V1", "draining"), (2, "V2", "live")):
        row = drawer.locator(f'.record-row[data-number="#{number}"]')
        expect(row).to_have_attribute("data-role", role)
        expect(row.locator("td").nth(1)).to_have_text(version)
    animations_done(drawer)
    shot(page, "records-version-per-round")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)
    open_canvas(page, stack.url, activity_id, mode="details")
    page.evaluate("window.__noReload = true")
    exec_bar(page, "sms").click()
    panel = page.locator("#analysis-panel")
    expect(panel).to_have_attribute("data-node", "sms")
    expect(panel.locator("#analysis-round")).to_have_text("Round #2 · V2 · In Progress")
    expect(panel.locator("#chart-funnel")).to_have_attribute("data-empty", "false")
    animations_done(panel)
    total = V1_PEOPLE + V2_PEOPLE
    expect(current(page)).to_have_attribute("data-version", "All versions")
    expect(page.locator("#vc-panel-entries")).to_have_text(str(total))
    expect(page.locator("#vc-panel-unique")).to_have_text(str(total))
    expect(page.locator("#vc-panel-note")).to_contain_text("exact")
    rows = page.locator("#vc-panel-table .vc-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_have_attribute("data-version", "V2 (live)")
    expect(rows.nth(1)).to_have_attribute("data-entries", str(V2_PEOPLE))
    expect(rows.nth(2)).to_have_attribute("data-version", "V1 (draining)")
    expect(rows.nth(2)).to_have_attribute("data-entries", str(V1_PEOPLE))
    shot(page, "panel-all-versions")

    choose(page, "vc-panel-select", "V1 (draining)")
    expect(current(page)).to_have_attribute("data-version", "V1 (draining)")
    expect(page.locator("#vc-panel-version")).to_have_text("V1 (draining)")
    expect(page.locator("#vc-panel-entries")).to_have_text(str(V1_PEOPLE))
    expect(page.locator("#vc-panel-unique")).to_have_text(str(V1_PEOPLE))
    shot(page, "panel-v1-draining")

    choose(page, "vc-panel-select", "V2 (live)")
    expect(current(page)).to_have_attribute("data-version", "V2 (live)")
    expect(page.locator("#vc-panel-entries")).to_have_text(str(V2_PEOPLE))
    expect(page.locator("#vc-panel-unique")).to_have_text(str(V2_PEOPLE))
    shot(page, "panel-v2-live")
    send_events(stack, [c.qaid for c in extra], VISIT)  # the open panel follows the live round: no reload
    expect(page.locator("#vc-panel-entries")).to_have_text(str(V2_PEOPLE + len(extra)))
    expect(rows.nth(0)).to_have_attribute("data-entries", str(total + len(extra)))
    expect(page.locator("#vc-panel-version")).to_have_text("V2 (live)")
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"

    page.click("#analysis-close")
    page.click("#vc-open")  # the header's dialog: every component, the wait V2 removed included
    dialog = page.locator("#vc-dialog")
    expect(dialog).to_be_visible()
    animations_done(dialog)
    expect(page.locator("#vc-dialog-version")).to_have_text("V2 (live)")  # the choice is kept
    wait_row = dialog.locator('.vc-row[data-node="w"]')
    expect(wait_row).to_have_attribute("data-present", "false")
    expect(wait_row).to_have_attribute("data-removed", "true")
    expect(wait_row).to_contain_text("—")
    expect(wait_row).to_contain_text("removed in the live version")
    expect(dialog.locator('.vc-row[data-node="sms"]')).to_have_attribute("data-entries", str(V2_PEOPLE + len(extra)))
    shot(page, "dialog-v2-live")
    choose(page, "vc-dialog-select", "V1 (draining)")
    expect(page.locator("#vc-dialog-version")).to_have_text("V1 (draining)")
    expect(wait_row).to_have_attribute("data-entries", str(V1_PEOPLE))
    expect(wait_row).to_have_attribute("data-unique", str(V1_PEOPLE))
    expect(wait_row).to_contain_text("removed in the live version")  # its older version's numbers, still listed
    shot(page, "dialog-v1-draining")
