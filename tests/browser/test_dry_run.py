"""Dry run on the canvas in Chromium (issue 16): Dry run beside Publish runs the flow on a sample of the demo
audience, each card shows how many would reach it and each line how many take it, the panel lists the drops
with their reasons; one customer by QAID; a broken flow is refused with the validator's words. The expected
numbers come from the engine's dry_run service on the same database; the page's screenshots are kept."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import Customer, User
from engine.services.dry_run import DryRunResult, dry_run
from tests.browser.canvas_ui import canvas_app, card, new_activity, open_canvas, settle
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def _node(nid: str, type_: str, x: int, y: int, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}


def _edge(src: str, dst: str, branch: str = "out") -> dict[str, str]:
    return {"source": src, "branch": branch, "target": dst}


#: audience 1 → Random Grouping 50/50 → group 1: Wait 1 day → Text SMS → End; group 2: End
FLOW = {"nodes": [_node("t", "target_audience", 0, 120, audience_id=1),
                  _node("g", "random_grouping", 280, 120, groups=[{"name": "Treated", "ratio": 50},
                                                                  {"name": "Control", "ratio": 50}]),
                  _node("w", "wait_until", 560, 0, mode="period", days=1),
                  _node("sms", "text_sms", 840, 0, content="Hi {name}"),
                  _node("e1", "end", 1120, 0), _node("e2", "end", 560, 260)],
        "edges": [_edge("t", "g"), _edge("g", "w", "group_1"), _edge("g", "e2", "group_2"), _edge("w", "sms"),
                  _edge("sms", "e1")]}


def expected(db: str, activity_id: int, **kw: Any) -> DryRunResult:
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            actor = session.exec(select(User).where(User.username == "marketer")).one()
            return dry_run(session=session, actor=actor, activity_id=activity_id, **kw)
    finally:
        engine.dispose()


def a_customer(db: str) -> str:
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            return session.exec(select(Customer.qaid).order_by(Customer.id)).first() or ""
    finally:
        engine.dispose()


def run_dry(page: Page, *, size: str = "", qaid: str = "") -> None:
    page.click("#canvas-dry-run")
    expect(page.locator("#dry-run-dialog")).to_be_visible()
    if size:
        page.fill("#dry-run-size", size)
    page.fill("#dry-run-qaid", qaid)
    page.click("#dry-run-go")


def test_dry_run_shows_counts_per_card_and_line_and_the_drops(app_server: RunningApp, page: Page,
                                                              shot: Shot) -> None:
    db = app_server.database_url
    aid = new_activity(db, "Dry run me", flow=FLOW)
    want = expected(db, aid, sample_size=200)
    assert want.entered > 0
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    expect(page.locator("#canvas-publish")).to_be_visible()
    shot(page, "before")

    run_dry(page, size="200")
    panel = page.locator("#dry-run-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#dry-run-sample")).to_have_text(want.sample)
    expect(page.locator("#dry-run-entered")).to_have_text(f"{want.entered} entered")
    expect(page.locator("#dry-run-dropped")).to_have_text(f"{want.dropped} dropped")
    for nid, n in want.nodes.items():  # a badge per card
        expect(page.locator(f"#exec-{nid}")).to_have_attribute("data-dry-reached", str(n.reached))
    for edge, count in want.edges.items():  # a badge per line
        expect(page.locator(f'[data-dry-edge="{edge}"]')).to_have_text(f"{count:,}")
    assert want.nodes["g"].branches["group_1"] + want.nodes["g"].branches["group_2"] == want.entered
    # the wait's wake is "now + its period": the dry run in the page ran a moment after `want`, perhaps a minute later
    later = expected(db, aid, sample_size=200).nodes["w"].waits.capitalize()
    expect(page.locator("#exec-w")).to_have_attribute(
        "title", re.compile("^(" + "|".join(map(re.escape, {want.nodes["w"].waits.capitalize(), later})) + ")$"))
    rows = panel.locator(".dry-run-drop")
    expect(rows).to_have_count(len(want.drops))
    for reason, n in want.reasons.items():
        expect(page.locator("#dry-run-reasons")).to_contain_text(reason)
        assert n > 0
    expect(panel).to_contain_text("Random Grouping: group 2 “Control”")
    settle(page)
    shot(page, "dry-run-sample")

    # nothing was saved or published by it: the activity is still a Draft with no round
    expect(page.locator("#canvas-dirty")).to_have_count(0)

    # one customer by QAID
    qaid = a_customer(db)
    one = expected(db, aid, qaid=qaid)
    run_dry(page, qaid=qaid)
    expect(page.locator("#dry-run-sample")).to_have_text(f"customer {qaid}")
    expect(page.locator("#dry-run-entered")).to_have_text(f"{one.entered} entered")
    for nid, n in one.nodes.items():
        expect(page.locator(f"#exec-{nid}")).to_have_attribute("data-dry-reached", str(n.reached))
    shot(page, "dry-run-one-customer")

    page.click("#dry-run-clear")
    expect(panel).to_have_count(0)
    expect(page.locator('[data-dry-edge]')).to_have_count(0)
    expect(card(page, "t").locator(".fc-exec")).to_have_count(0)


def test_dry_run_refuses_an_invalid_flow(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    broken = {"nodes": FLOW["nodes"], "edges": [e for e in FLOW["edges"] if e["target"] != "e2"]}
    aid = new_activity(db, "Dry run broken", flow=broken)
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    run_dry(page)
    error = page.locator("#dry-run-error")
    expect(error).to_contain_text("The flow cannot be dry-run: Random Grouping: the 'group_2' link does not end")
    expect(page.locator("#dry-run-panel")).to_have_count(0)
    shot(page, "refused")
    run_dry_qaid_unknown = page.locator("#dry-run-qaid")
    run_dry_qaid_unknown.fill("NO-SUCH-QAID")
    page.click("#dry-run-go")
    expect(error).to_contain_text("The flow cannot be dry-run")
