"""Moves the canvas browser tests share: opening an activity's canvas, finding cards, "+" stubs and lines,
dragging from the palette, reading what the page state saved.

`CANVAS_APP_URL` + `CANVAS_APP_DB` (both set) make the canvas tests use an app that is already running instead of
starting one per file: handy while working on the canvas (the tests create their own activities).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import Activity, ActivityVersion, User
from engine.services.activities import ActivityInput, create_activity
from tests.browser.harness import RunningApp, running_app
from tests.browser.settle import quiet
from tests.browser.settle import settle as at_rest


@contextmanager
def canvas_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The test file's app: the one named by CANVAS_APP_URL / CANVAS_APP_DB, else a fresh one as conftest's
    app_server starts it (one per file, over a fresh copy of the demo data)."""
    url, db = os.environ.get("CANVAS_APP_URL"), os.environ.get("CANVAS_APP_DB")
    if url and db:
        yield RunningApp(url=url, database_url=db, log=Path("/dev/null"))
        return
    from tests.browser.conftest import WEB_DIR

    work = tmp_path_factory.mktemp("app")
    with running_app(f"sqlite:///{work / 'app.db'}", work, WEB_DIR) as app:
        yield app


def new_activity(db: str, name: str, *, username: str = "marketer", flow: dict[str, Any] | None = None,
                 **fields: Any) -> int:
    """A private Draft created directly through the service (test arrangement)."""
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            activity = create_activity(session=session, actor=user, data=ActivityInput(name=name, **fields),
                                       flow=flow)
            session.commit()
            assert activity.id is not None
            return activity.id
    finally:
        engine.dispose()


def saved(db: str, activity_id: int) -> tuple[Activity, dict[str, Any]]:
    """The activity and the flow of its current version, as stored."""
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            activity = session.get(Activity, activity_id)
            assert activity is not None
            version = session.get(ActivityVersion, activity.current_version_id)
            return activity, dict(version.flow) if version else {}
    finally:
        engine.dispose()


def open_canvas(page: Page, base_url: str, activity_id: int, **query: str) -> None:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    page.goto(f"{base_url}/activities/{activity_id}/canvas" + (f"?{tail}" if tail else ""))
    expect(page.locator(".fc-root")).to_be_visible()
    settle(page)


def settle(page: Page) -> None:
    """Wait until the cards stopped moving (the first fit to screen, an animated fit or zoom, a delayed scroll)."""
    at_rest(page)


def card(page: Page, node_id: str) -> Locator:
    return page.locator(f'.fc-node[data-node-id="{node_id}"]')


#: the canvas's floating corners (tools top right, mini map bottom left): a card or line under them is on the
#: canvas but not under the pointer
_UNDER_CORNERS = """([x, y, w, h]) => [...document.querySelectorAll('.fc-toolbar, .fc-minimap')].some(el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && x < r.right && x + w > r.left && y < r.bottom && y + h > r.top;
})"""


def _inside(page: Page, target: Locator, margin: float = 8) -> bool:
    """Is `target` wholly on the visible canvas (not under the palette, the panel, the canvas's tools or mini map,
    or off screen)?"""
    area, box = page.locator(".react-flow").bounding_box(), target.bounding_box()
    if area is None or box is None:
        return False
    if not (box["x"] >= area["x"] + margin and box["y"] >= area["y"] + margin
            and box["x"] + box["width"] <= area["x"] + area["width"] - margin
            and box["y"] + box["height"] <= area["y"] + area["height"] - margin):
        return False
    return not page.evaluate(_UNDER_CORNERS, [box["x"], box["y"], box["width"], box["height"]])


def on_screen(page: Page, target: Locator) -> bool:
    """Is `target` wholly on the visible canvas (after the canvas came to rest)?"""
    settle(page)
    return _inside(page, target)


def reveal(page: Page, target: Locator) -> None:
    """Make sure `target` is on the visible canvas (fit to screen if not), the canvas at rest."""
    settle(page)  # a selection may scroll the canvas, after a short delay: that delay is waited for too
    for _ in range(3):
        if _inside(page, target):
            return
        fit(page)
    raise AssertionError("not on the visible canvas, even fitted to the screen")


def click_card(page: Page, node_id: str) -> None:
    reveal(page, card(page, node_id))
    card(page, node_id).click()


def cards(page: Page, component_type: str | None = None) -> Locator:
    return page.locator(".fc-node" + (f'[data-type="{component_type}"]' if component_type else ""))


def plus(page: Page, source: str, branch: str = "out") -> Locator:
    return page.locator(f'.fc-plus[data-source="{source}"][data-branch="{branch}"]')


def line_tools(page: Page, source: str, target: str, branch: str = "out") -> Locator:
    return page.locator(f'.fc-edge-tools[data-edge="{source}|{branch}|{target}"]')


def line_path(page: Page, source: str, target: str, branch: str = "out") -> Locator:
    return page.locator(f'.react-flow__edge[data-id="{source}|{branch}|{target}"] path.fc-edge')


def hover_line(page: Page, source: str, target: str, branch: str = "out") -> Locator:
    """Point at the middle of a line: its insert / scissors buttons show."""
    tools = line_tools(page, source, target, branch)
    reveal(page, tools)
    # the graph at rest too, not only the view: after an undo the server's answer re-routes the lines, and a box
    # read before that is where the line was (the pointer then rests beside it and the tools never show)
    quiet(page, ".fc-root")
    box = tools.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    expect(tools).to_have_css("opacity", "1")
    return tools


def pick(page: Page, component_type: str) -> None:
    """Choose a component in the open component menu."""
    cards = page.locator(".fc-node").count()
    page.locator(f'.fc-menu [data-menu-type="{component_type}"]').click()
    expect(page.locator(".fc-menu")).to_have_count(0)
    expect(page.locator(".fc-node")).to_have_count(cards + 1)  # the server answered with the new card ...
    expect(page.locator(".fc-node.selected")).to_have_count(1)  # ... selected
    settle(page)  # ... and the canvas's scroll to it, delayed and animated, has ended


def drag_palette(page: Page, component_type: str, target: Locator) -> None:
    page.locator(f'[data-palette="{component_type}"]').drag_to(target)


def node_ids(page: Page) -> list[str]:
    return [x for x in page.locator(".fc-node").evaluate_all("els => els.map(e => e.dataset.nodeId)")]


def tool(page: Page, node_id: str, name: str) -> None:
    """Click one of the three icons above a card (copy, copy-subtree, delete); they show on hover and while the
    card is selected."""
    icon = card(page, node_id).locator(f'[data-tool="{name}"]')
    reveal(page, card(page, node_id))
    card(page, node_id).hover()
    if not icon.is_visible():
        card(page, node_id).click()
    icon.click()


def answer(page: Page, ok: bool = True) -> None:
    """Answer the canvas's confirmation and wait until it has gone (its overlay takes the pointer meanwhile)."""
    page.click("#canvas-confirm-ok" if ok else "#canvas-confirm-cancel")
    expect(page.locator("#canvas-confirm")).to_have_count(0)


def canvas_tool(page: Page, name: str) -> Locator:
    return page.locator(f'.fc-toolbar [data-tool="{name}"]')


def fit(page: Page) -> None:
    """Fit to screen once cards without saved places have been laid out (elkjs loads on first use: seconds on a
    busy machine), and wait for its short animation to end (cards are where they will stay)."""
    expect(page.locator(".fc-root")).to_have_attribute("data-layout", "done", timeout=30_000)
    canvas_tool(page, "fit").click()  # its transition starts on the next animation frame
    settle(page)


def zoom(page: Page) -> int:
    return int(page.locator(".fc-zoom").get_attribute("data-zoom") or "0")


def settled_zoom(page: Page) -> int:
    """The zoom once its animation has ended: a zoom button pressed mid-animation starts from wherever the
    animation was."""
    settle(page)
    return zoom(page)


def field(page: Page, path: str) -> Locator:
    return page.locator(f'#config-panel .panel-field[data-path="{path}"]')


def fill(page: Page, path: str, text: str) -> None:
    """Type into a panel field and leave it (the panel applies a text field on blur)."""
    box = field(page, path).locator("input, textarea").first
    box.fill(text)
    box.press("Tab")


def choose(page: Page, path: str, label: str) -> None:
    page.locator(f'#config-panel [data-select="{path}"]').click()
    page.get_by_role("option", name=label, exact=True).click()


def configured(page: Page, node_id: str, yes: bool = True) -> None:
    expect(card(page, node_id)).to_have_attribute("data-configured", "true" if yes else "false")


def dashed(page: Page, source: str, target: str, branch: str = "out") -> bool:
    return "dashed" in (line_path(page, source, target, branch).get_attribute("class") or "")


def rev(page: Page) -> int:
    return int(page.locator(".fc-root").get_attribute("data-rev") or "0")

