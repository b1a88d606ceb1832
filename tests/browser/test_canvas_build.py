"""The canvas in Chromium, with the mouse: build a flow from an empty canvas (palette, "+", drag onto a "+",
insert on a line, connect to open space and onto another component), then edit one (undo / redo, copy and paste
one component or a subtree, delete with subsequent links, scissors, End on every open link, zoom, fit, pan,
drag) with the buttons and the keyboard. What was saved is read back from the database: the page calls the
engine's flow operations, it never edits the flow by itself."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, WebSocket, expect

from engine.flow.validate import validate_flow
from tests.browser.canvas_ui import (
    answer,
    canvas_app,
    canvas_tool,
    card,
    cards,
    choose,
    click_card,
    configured,
    dashed,
    drag_palette,
    field,
    fill,
    fit,
    hover_line,
    line_path,
    line_tools,
    new_activity,
    node_ids,
    open_canvas,
    pick,
    plus,
    rev,
    reveal,
    saved,
    settled_zoom,
    tool,
)
from tests.browser.conftest import RunningApp, Shot
from tests.browser.settle import quiet
from tests.browser.ui import sign_in, toast

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def edges_of(flow: dict) -> set[tuple[str, str, str]]:
    return {(e["source"], e.get("branch") or "out", e["target"]) for e in flow["edges"]}


def test_build_a_flow_from_scratch(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")

    # New activity → Custom creation: the list's dialog opens the empty canvas
    page.click("#new-activity")
    page.fill("#new-name", "Canvas from scratch")
    page.click("#new-submit")
    page.wait_for_url(re.compile(r".*/activities/\d+/canvas\?mode=edit$"))
    activity_id = int(re.findall(r"/activities/(\d+)/", page.url)[0])
    expect(page.locator("#canvas-name")).to_have_text("Canvas from scratch")
    expect(page.locator(".fc-start")).to_be_visible()
    expect(page.locator(".fc-palette-group")).to_have_count(5)
    expect(page.locator(".fc-palette-group-title")).to_have_text(
        ["Trigger Mode", "Marketing Touch", "Process Control", "Judgment Condition", "Data Push"])
    expect(page.locator(".fc-palette-item")).to_have_count(21)
    shot(page, "empty")

    # the first component must be a trigger: the start menu offers only triggers, a dropped SMS is refused
    page.click(".fc-start")
    expect(page.locator(".fc-menu [data-menu-type]")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(page.locator(".fc-menu")).to_have_count(0)
    drag_palette(page, "text_sms", page.locator(".fc-start"))
    expect(page.locator(".fc-note")).to_contain_text("The first component must be a trigger")
    expect(cards(page)).to_have_count(0)

    # drag the trigger onto the start placeholder: a card with a red dot, its panel open
    drag_palette(page, "target_audience", page.locator(".fc-start"))
    expect(card(page, "n1")).to_be_visible()
    expect(page.locator(".react-flow__minimap")).to_be_visible()
    configured(page, "n1", False)
    expect(card(page, "n1").locator(".fc-dot")).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text("Target Audience")
    choose(page, "audience_id", "All members")
    configured(page, "n1")
    expect(card(page, "n1").locator(".fc-dot")).to_have_count(0)
    expect(card(page, "n1")).to_contain_text("All members · once")

    # "+" at the end of the link opens the component list (no triggers there)
    plus(page, "n1").click()
    expect(page.locator(".fc-menu")).to_contain_text("Add a component")
    expect(page.locator('.fc-menu [data-menu-type="target_audience"]')).to_have_count(0)
    pick(page, "text_sms")
    configured(page, "n2", False)
    assert dashed(page, "n1", "n2")  # unconfigured: the line into it is dashed

    # the message editor: variable chips, {short_link} needs its target
    fill(page, "content", "Hi {name}, your coupon is waiting:")
    page.locator('#config-panel [data-var="{short_link}"]').click()
    expect(field(page, "content").locator("textarea")).to_have_value("Hi {name}, your coupon is waiting: {short_link}")
    expect(field(page, "link_url").locator(".field-error")).to_contain_text("set the link it leads to")
    fill(page, "link_url", "https://shop.example.com/coupon")
    configured(page, "n2")
    assert not dashed(page, "n1", "n2")
    shot(page, "mid-build")

    # drag from the palette onto a "+"
    drag_palette(page, "wait_until", plus(page, "n2"))
    expect(card(page, "n3")).to_have_attribute("data-type", "wait_until")
    fill(page, "hours", "2")
    configured(page, "n3")
    expect(card(page, "n3")).to_contain_text("Wait 2 h")

    # insert on a line: the line's "+" → Tag, between the SMS and the wait
    x_before = card(page, "n3").bounding_box()["x"]  # type: ignore[index]
    hover_line(page, "n2", "n3").locator('[data-tool="insert"]').click()
    expect(page.locator(".fc-menu")).to_contain_text("Insert on this line")
    pick(page, "tag")
    expect(card(page, "n4")).to_have_attribute("data-type", "tag")
    expect(line_path(page, "n2", "n4")).to_have_count(1)
    expect(line_path(page, "n4", "n3")).to_have_count(1)
    expect(line_path(page, "n2", "n3")).to_have_count(0)
    assert card(page, "n3").bounding_box()["x"] > x_before + 100  # type: ignore[index]  # pushed right
    fill(page, "tag", "membership level")
    fill(page, "value", "VIP")
    configured(page, "n4")
    page.locator("#panel-close").click()
    fit(page)

    # connect from a component's right handle to open space: choose what goes there
    reveal(page, card(page, "n3"))
    handle = card(page, "n3").locator(".fc-out").first
    hb = handle.bounding_box()
    assert hb is not None
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(hb["x"] + 90, hb["y"] + 170, steps=8)
    page.mouse.up()
    expect(page.locator(".fc-menu")).to_contain_text("Add a component")
    pick(page, "email")
    expect(card(page, "n5")).to_have_attribute("data-type", "email")
    expect(line_path(page, "n3", "n5")).to_have_count(1)
    page.keyboard.press("Escape")  # deselect: the panel closes
    fit(page)

    # connect onto another component: the audience also feeds the email directly (several successors)
    reveal(page, card(page, "n1"))
    reveal(page, card(page, "n5"))
    handle = card(page, "n1").locator(".fc-out").first
    hb, target = handle.bounding_box(), card(page, "n5").bounding_box()
    assert hb is not None and target is not None
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=10)
    page.mouse.up()
    expect(line_path(page, "n1", "n5")).to_have_count(1)

    # the email: subject and body; End on every open link in one click
    click_card(page, "n5")
    fill(page, "subject", "Picked for you")
    fill(page, "body", "Hello {name}")
    configured(page, "n5")
    page.locator("#panel-close").click()
    canvas_tool(page, "add-ends").click()
    toast(page, "Added 1 End component.")
    expect(cards(page, "end")).to_have_count(1)
    expect(page.locator(".fc-plus")).to_have_count(0)
    fit(page)
    shot(page, "fully-built")

    # Save Draft: back to the list, a Draft with exactly this flow
    page.click("#canvas-save")
    toast(page, "Saved “Canvas from scratch” as a draft.")
    page.wait_for_url(re.compile(r".*/$"))
    activity, flow = saved(db, activity_id)
    assert activity.status == "draft"
    assert [n["type"] for n in flow["nodes"]] == ["target_audience", "text_sms", "wait_until", "tag", "email", "end"]
    assert edges_of(flow) == {("n1", "out", "n2"), ("n2", "out", "n4"), ("n4", "out", "n3"), ("n3", "out", "n5"),
                              ("n1", "out", "n5"), ("n5", "out", "n6")}
    assert validate_flow(flow) == []
    assert flow["nodes"][1]["config"] == {"content": "Hi {name}, your coupon is waiting: {short_link}",
                                          "link_url": "https://shop.example.com/coupon"}

    # reopened, the canvas shows the saved flow
    open_canvas(page, app_server.url, activity_id, mode="edit")
    expect(cards(page)).to_have_count(6)


BRANCHED = {
    "nodes": [
        {"id": "n1", "type": "target_audience", "config": {"audience_id": 1}, "position": {"x": 0, "y": 140}},
        {"id": "n2", "type": "random_grouping", "config": {"groups": [{"name": "A", "ratio": 50},
                                                                       {"name": "B", "ratio": 50}]},
         "position": {"x": 260, "y": 140}},
        {"id": "n3", "type": "text_sms", "config": {"content": "Hi {name}"}, "position": {"x": 520, "y": 70}},
        {"id": "n4", "type": "end", "config": {}, "position": {"x": 780, "y": 70}},
        {"id": "n5", "type": "email", "config": {"subject": "Hello", "body": "Hi {name}"},
         "position": {"x": 520, "y": 210}},
        {"id": "n6", "type": "end", "config": {}, "position": {"x": 780, "y": 210}},
    ],
    "edges": [{"source": "n1", "branch": "out", "target": "n2"}, {"source": "n2", "branch": "group_1", "target": "n3"},
              {"source": "n3", "branch": "out", "target": "n4"}, {"source": "n2", "branch": "group_2", "target": "n5"},
              {"source": "n5", "branch": "out", "target": "n6"}],
}


def _event_frames(page: Page) -> list[str]:
    """Socket.IO event frames the page sends (pings left out), recorded from now on."""
    frames: list[str] = []

    def watch(ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: frames.append(payload) if str(payload).startswith("42") else None)

    page.on("websocket", watch)
    return frames


def test_edit_undo_copy_paste_delete_cut_zoom_and_drag(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    activity_id = new_activity(db, "Canvas editing", flow=BRANCHED)
    frames = _event_frames(page)
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, activity_id, mode="edit")
    expect(cards(page)).to_have_count(6)
    expect(card(page, "n2").locator(".fc-branch-label")).to_have_text(["A · 50%", "B · 50%"])
    expect(canvas_tool(page, "undo")).to_be_disabled()

    # delete a component with its subsequent links: asks first; Cancel keeps it, Delete removes both
    tool(page, "n5", "delete")
    expect(page.locator("#canvas-confirm")).to_contain_text("Delete Email (n5)?")
    expect(page.locator("#canvas-confirm")).to_contain_text("the component on its subsequent link")
    answer(page, ok=False)
    expect(cards(page)).to_have_count(6)
    tool(page, "n5", "delete")
    answer(page)
    expect(cards(page)).to_have_count(4)
    expect(plus(page, "n2", "group_2")).to_be_visible()

    # undo / redo, with the buttons and the keyboard, several steps
    canvas_tool(page, "undo").click()
    expect(cards(page)).to_have_count(6)
    canvas_tool(page, "redo").click()
    expect(cards(page)).to_have_count(4)
    page.keyboard.press("Control+z")
    expect(cards(page)).to_have_count(6)
    page.keyboard.press("Control+Shift+z")
    expect(cards(page)).to_have_count(4)
    page.keyboard.press("Control+z")
    expect(cards(page)).to_have_count(6)
    page.keyboard.press("Control+y")
    expect(cards(page)).to_have_count(4)
    page.keyboard.press("Control+z")
    expect(cards(page)).to_have_count(6)
    expect(canvas_tool(page, "redo")).to_be_enabled()

    # scissors on a line: asks, then cuts the line and the End no other line reaches
    hover_line(page, "n3", "n4").locator('[data-tool="cut"]').click()
    expect(page.locator("#canvas-confirm")).to_contain_text("Cut this line?")
    answer(page)
    expect(card(page, "n4")).to_have_count(0)
    expect(plus(page, "n3")).to_be_visible()

    # copy one component, paste it at the "+" after the SMS: same configuration; Esc leaves copy mode
    tool(page, "n5", "copy")
    expect(page.locator('[data-banner="copy"]')).to_be_visible()
    expect(plus(page, "n3")).to_have_class(re.compile("pasting"))
    plus(page, "n3").click()
    pasted = card(page, "n7")
    expect(pasted).to_have_attribute("data-type", "email")
    configured(page, "n7")
    page.keyboard.press("Escape")
    expect(page.locator('[data-banner="copy"]')).to_have_count(0)
    expect(plus(page, "n7")).not_to_have_class(re.compile("pasting"))

    # copy with its subsequent links: the grouping and everything after it, pasted after the new email
    fit(page)
    tool(page, "n2", "copy-subtree")
    expect(page.locator('[data-banner="copy"]')).to_contain_text("subsequent links")
    before = len(node_ids(page))
    plus(page, "n7").click()
    expect(cards(page)).to_have_count(before + 5)
    expect(cards(page, "random_grouping")).to_have_count(2)
    page.keyboard.press("Escape")
    shot(page, "after-paste")

    # keyboard: select, Ctrl+C / Ctrl+V at the selected component's free link, Delete / Backspace ask first
    fit(page)
    click_card(page, "n3")
    page.keyboard.press("Control+c")
    expect(page.locator('[data-banner="copy"]')).to_be_visible()
    free = [i for i in node_ids(page) if plus(page, i).count()]
    click_card(page, free[0])
    count = len(node_ids(page))
    page.keyboard.press("Control+v")
    expect(cards(page)).to_have_count(count + 1)
    page.keyboard.press("Escape")  # leaves copy mode
    page.keyboard.press("Escape")  # deselects
    expect(page.locator("#config-panel")).to_have_count(0)
    fit(page)
    last = node_ids(page)[-1]
    click_card(page, last)
    page.keyboard.press("Delete")
    expect(page.locator("#canvas-confirm")).to_be_visible()
    answer(page)
    expect(cards(page)).to_have_count(count)
    click_card(page, "n7")
    page.keyboard.press("Backspace")
    expect(page.locator("#canvas-confirm")).to_contain_text("Delete Email (n7)?")
    answer(page, ok=False)

    # End on every open link
    open_links = page.locator(".fc-plus").count()
    assert open_links > 0
    canvas_tool(page, "add-ends").click()
    expect(page.locator(".fc-plus")).to_have_count(0)

    # zoom in / out with the percentage, fit to screen, pan with the mouse
    fit(page)
    start = settled_zoom(page)
    canvas_tool(page, "zoom-in").click()
    expect(page.locator(".fc-zoom")).not_to_have_text(f"{start}%")
    assert settled_zoom(page) > start
    canvas_tool(page, "zoom-out").click()
    settled_zoom(page)
    canvas_tool(page, "zoom-out").click()
    assert settled_zoom(page) < start
    viewport = page.locator(".react-flow__viewport")
    before_pan = viewport.get_attribute("style")
    pane = page.locator(".react-flow__pane").bounding_box()
    assert pane is not None
    page.mouse.move(pane["x"] + 60, pane["y"] + pane["height"] - 60)
    page.mouse.down()
    page.mouse.move(pane["x"] + 260, pane["y"] + pane["height"] - 160, steps=6)
    page.mouse.up()
    assert viewport.get_attribute("style") != before_pan

    # drop a palette item onto a line: inserted there (the line's buttons become drop targets while dragging)
    fit(page)
    count = len(node_ids(page))
    page.locator('[data-palette="tag"]').drag_to(line_tools(page, "n1", "n2"), force=True)
    expect(cards(page)).to_have_count(count + 1)
    # the drag's look went without a transition: the lines' tools (60 on a big flow) fading out at the drop took
    # the frames that draw the new card (docs/BENCHMARKS.md, Issue 13); only a hovered line's tools fade in
    expect(page.locator(".fc-root")).not_to_have_attribute("data-dragging", re.compile(".*"))
    fading = page.evaluate("""() => [...document.querySelectorAll('.fc-edge-tools:not(.show)')]
        .filter((t) => getComputedStyle(t).transitionDuration !== '0s').length""")
    assert fading == 0
    new = node_ids(page)[-1]
    expect(card(page, new)).to_have_attribute("data-type", "tag")
    expect(line_path(page, "n1", new)).to_have_count(1)
    expect(line_path(page, new, "n2")).to_have_count(1)
    fill(page, "tag", "source")
    fill(page, "value", "canvas")
    configured(page, new)

    # drag a card: nothing goes to the server while it moves, one event when it is dropped
    page.locator("#panel-close").click()
    fit(page)
    box = card(page, "n3").bounding_box()
    assert box is not None
    old = next(n for n in saved(db, activity_id)[1]["nodes"] if n["id"] == "n3")["position"]
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    quiet(page, ".fc-root")  # the press is handled (a selection it causes is rendered)
    sent, shown = len(frames), rev(page)
    for step in range(1, 21):
        page.mouse.move(box["x"] + box["width"] / 2 + step * 4, box["y"] + box["height"] / 2 + step * 3)
    # the card is drawn where the pointer took it (snapped to the grid), and the page is at rest
    page.wait_for_function("([x, y]) => { const r = document.querySelector('.fc-node[data-node-id=\"n3\"]')"
                           ".getBoundingClientRect(); return r.x - x > 40 && r.y - y > 30; }",
                           arg=[box["x"], box["y"]])
    quiet(page, ".fc-root")
    assert len(frames) == sent, "a drag must not send events while the card moves"
    page.mouse.up()
    expect(page.locator(".fc-root")).not_to_have_attribute("data-rev", str(shown))
    quiet(page, ".fc-root")  # the server's answer is applied: anything else the drop sent came before it
    assert len(frames) == sent + 1
    assert '"kind":"move"' in frames[-1].replace(" ", "")

    # saved: the draft has the edited flow, the card where it was dropped
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    _, flow = saved(db, activity_id)
    moved = next(n for n in flow["nodes"] if n["id"] == "n3")["position"]
    assert moved != old
    assert validate_flow(flow) == []
