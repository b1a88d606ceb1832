"""The canvas lays flows out so people can read them (assets/canvas/flow_layout.js, elkjs): a 10-component chain
opened without saved positions fits the 1440×900 window at a readable zoom, Tidy up re-lays a flow out as one
undoable step, a split's branches stand side by side, and a line drawn by hand past a component goes around the
cards with every line's buttons clickable. Zoom and places are read from React Flow's viewport and cards."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.canvas_ui import (
    answer,
    canvas_app,
    canvas_tool,
    card,
    fit,
    hover_line,
    line_tools,
    new_activity,
    open_canvas,
    settle,
)
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser

MIDDLE = [("text_sms", {"content": "Hi {name}, new arrivals"}), ("wait_until", {"mode": "period", "hours": 2}),
          ("email", {"subject": "For you", "body": "Hello {name}"}), ("tag", {"tag": "level", "value": "VIP"})]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def chain(length: int, *, row: bool = False) -> dict[str, Any]:
    """Trigger, length - 2 steps, End: without positions (as an import would bring it), or all on one row (as
    the canvas used to place every new component)."""
    nodes, edges = [], []
    for i in range(1, length + 1):
        t, config = (("target_audience", {"audience_id": 1}) if i == 1 else ("end", {}) if i == length
                     else MIDDLE[(i - 2) % len(MIDDLE)])
        node: dict[str, Any] = {"id": f"n{i}", "type": t, "config": dict(config)}
        if row:
            node["position"] = {"x": (i - 1) * 260.0, "y": 0.0}
        nodes.append(node)
        if i > 1:
            edges.append({"source": f"n{i - 1}", "branch": "out", "target": f"n{i}"})
    return {"nodes": nodes, "edges": edges}


def viewport_zoom(page: Page) -> float:
    """React Flow's zoom, from its viewport's transform (`translate(x, y) scale(z)`)."""
    style = page.locator(".react-flow__viewport").get_attribute("style") or ""
    m = re.search(r"scale\(([\d.]+)\)", style)
    assert m, style
    return float(m.group(1))


def places(page: Page) -> dict[str, tuple[float, float]]:
    """Each card's place on the flow (React Flow's node transform), by node id."""
    got = page.locator(".react-flow__node-step").evaluate_all(
        """els => els.map(e => [e.dataset.id, e.style.transform])""")
    out = {}
    for nid, transform in got:
        m = re.search(r"translate\(([-\d.]+)px, ?([-\d.]+)px\)", transform)
        assert m, transform
        out[nid] = (float(m.group(1)), float(m.group(2)))
    return out


def boxes_overlap(page: Page) -> list[tuple[str, str]]:
    boxes = {nid: card(page, nid).bounding_box() for nid in places(page)}
    ids = sorted(boxes)
    bad = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            p, q = boxes[a], boxes[b]
            assert p is not None and q is not None
            if (p["x"] < q["x"] + q["width"] and q["x"] < p["x"] + p["width"]
                    and p["y"] < q["y"] + q["height"] and q["y"] < p["y"] + p["height"]):
                bad.append((a, b))
    return bad


def test_a_ten_chain_without_positions_opens_readable(app_server: RunningApp, page: Page, shot: Shot) -> None:
    aid = new_activity(app_server.database_url, "Ten in a chain", flow=chain(10))
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    expect(page.locator(".react-flow__node-step")).to_have_count(10)
    fit(page)
    shot(page, "ten-chain-fitted")
    assert viewport_zoom(page) >= 0.7
    assert not boxes_overlap(page)
    rows = {y for _x, y in places(page).values()}
    assert len(rows) > 1, "a long chain wraps into rows"
    # the layout is the draft's present flow, not an unsaved change: nothing to undo
    expect(canvas_tool(page, "undo")).to_be_disabled()


def test_tidy_up_then_undo_restores_the_places(app_server: RunningApp, page: Page, shot: Shot) -> None:
    aid = new_activity(app_server.database_url, "One endless row", flow=chain(10, row=True))
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    fit(page)
    before = places(page)
    assert viewport_zoom(page) < 0.7, "the old one-row placement is what Tidy up fixes"
    shot(page, "one-row")
    rev = page.locator(".fc-root").get_attribute("data-rev")
    canvas_tool(page, "tidy").click()
    expect(page.locator(".fc-root")).not_to_have_attribute("data-rev", rev or "")
    settle(page)
    fit(page)
    tidied = places(page)
    shot(page, "tidied")
    assert tidied != before
    assert viewport_zoom(page) >= 0.7
    assert not boxes_overlap(page)
    expect(canvas_tool(page, "undo")).to_be_enabled()
    canvas_tool(page, "undo").click()
    page.wait_for_function("(want) => { const got = {}; for (const e of document.querySelectorAll("
                           "'.react-flow__node-step')) got[e.dataset.id] = e.style.transform;"
                           " return Object.keys(want).every((k) => got[k] === want[k]); }",
                           arg={nid: f"translate({x:g}px, {y:g}px)" for nid, (x, y) in before.items()})
    assert places(page) == before
    shot(page, "undone")


def test_a_split_shows_its_branches_side_by_side(app_server: RunningApp, page: Page, shot: Shot) -> None:
    groups = [{"name": "A", "ratio": 30}, {"name": "B", "ratio": 30}, {"name": "C", "ratio": 40}]
    nodes = [{"id": "n1", "type": "target_audience", "config": {"audience_id": 1}},
             {"id": "n2", "type": "ab_test", "config": {"groups": groups}}]
    edges = [{"source": "n1", "branch": "out", "target": "n2"}]
    for k in range(3):
        sms, end = f"n{3 + k}", f"n{6 + k}"
        nodes += [{"id": sms, "type": "text_sms", "config": {"content": f"Variant {k + 1}"}},
                  {"id": end, "type": "end", "config": {}}]
        edges += [{"source": "n2", "branch": f"group_{k + 1}", "target": sms},
                  {"source": sms, "branch": "out", "target": end}]
    aid = new_activity(app_server.database_url, "Three variants", flow={"nodes": nodes, "edges": edges})
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    fit(page)
    shot(page, "ab-three-groups")
    at = places(page)
    split_x = at["n2"][0]
    heads = [at["n3"], at["n4"], at["n5"]]
    assert len({x for x, _y in heads}) == 1 and heads[0][0] > split_x, "the three branches start in one column"
    assert heads[0][1] < heads[1][1] < heads[2][1], "in the order of the split's groups, top to bottom"
    ends = [at["n6"], at["n7"], at["n8"]]
    assert len({x for x, _y in ends}) == 1 and ends[0][0] > heads[0][0]
    assert not boxes_overlap(page)
    assert viewport_zoom(page) >= 0.7


def test_a_hand_drawn_link_goes_around_the_cards(app_server: RunningApp, page: Page, shot: Shot) -> None:
    aid = new_activity(app_server.database_url, "A link past a card", flow=chain(5, row=True))
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    fit(page)
    # draw n2 → n4 by hand: straight along the row, it would run under n3
    handle = card(page, "n2").locator(".fc-out").first.bounding_box()
    target = card(page, "n4").bounding_box()
    assert handle is not None and target is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=8)
    page.mouse.up()
    expect(line_tools(page, "n2", "n4")).to_have_attribute("data-routed", "around")
    settle(page)
    tools = line_tools(page, "n2", "n4")
    below = tools.bounding_box()
    skipped = card(page, "n3").bounding_box()
    assert below is not None and skipped is not None
    assert below["y"] >= skipped["y"] + skipped["height"] or below["y"] + below["height"] <= skipped["y"]
    hover_line(page, "n2", "n4")
    shot(page, "around")
    # every line's scissors can be clicked (a card on top would take the click): each asks to confirm the cut
    lines = [("n1", "n2"), ("n2", "n3"), ("n3", "n4"), ("n4", "n5"), ("n2", "n4")]
    for source, target_id in lines:
        hover_line(page, source, target_id).locator('[data-tool="cut"]').click()
        expect(page.locator("#canvas-confirm")).to_be_visible()
        answer(page, ok=False)
    expect(page.locator(".react-flow__edge")).to_have_count(len(lines))
