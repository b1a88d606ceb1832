"""Content moderation in Chromium: an admin edits the workspace's banned-word list on the Reach Tasks page (a
marketer reads it), the canvas's SMS editor shows the segment count as the text grows past one SMS, and Publish
refuses a flow whose SMS holds a banned word, naming the component and highlighting it. Expectations come from
the engine (the same validator with the workspace's list)."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from engine.flow.moderation import segment_label
from engine.flow.validate import validate_flow
from engine.status import ActivityStatus
from tests.browser.canvas_ui import canvas_app, card, click_card, new_activity, open_canvas, saved
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in, sign_out, toast

pytestmark = pytest.mark.browser
WORDS = ["casino", "赌博"]
CONTENT = "Big CASINO night for you, {name}!"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def _node(nid: str, type_: str, x: int, **config: object) -> dict:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": 0}}


FLOW = {"nodes": [_node("n1", "target_audience", 0, audience_id=1), _node("n2", "text_sms", 260, content=CONTENT),
                  _node("n3", "end", 520)],
        "edges": [{"source": "n1", "branch": "out", "target": "n2"}, {"source": "n2", "branch": "out", "target": "n3"}]}


def test_banned_words_refuse_publish_with_the_reason_on_the_component(app_server: RunningApp, page: Page,
                                                                       shot: Shot) -> None:
    db = app_server.database_url
    # the admin keeps the list, where reach tasks are looked after
    sign_in(page, app_server.url, "admin")
    page.goto(f"{app_server.url}/reach/sms")
    page.click("#banned-words")
    page.fill("#banned-words-text", "\n".join(WORDS))
    shot(page, "banned-words-admin")
    page.click("#banned-words-save")
    toast(page, "Saved 2 banned words", "success")
    sign_out(page)

    # a marketer reads it, cannot save it
    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/reach/sms")
    page.click("#banned-words")
    expect(page.locator("#banned-words-text")).to_have_value("\n".join(WORDS))
    expect(page.locator("#banned-words-why")).to_have_text("Only an admin can change the banned-word list.")
    expect(page.locator("#banned-words-save")).to_have_count(0)
    shot(page, "banned-words-marketer")
    page.keyboard.press("Escape")

    # the SMS editor counts segments; Publish refuses the banned word, on the component
    aid = new_activity(db, "Moderated SMS", flow=FLOW)
    open_canvas(page, app_server.url, aid, mode="edit")
    click_card(page, "n2")
    field = page.locator('.panel-field[data-path="content"]')
    expect(field).to_contain_text(segment_label(CONTENT))
    long_text = "你好" * 40  # 80 Unicode characters: two SMS
    field.locator("textarea").fill(long_text)
    field.locator("textarea").blur()
    expect(field).to_contain_text("2 SMS segments (80 Unicode characters)")
    field.locator("textarea").fill(CONTENT)
    field.locator("textarea").blur()
    expect(field).to_contain_text("1 SMS segment")
    page.click("#canvas-publish")
    toast(page, "The flow cannot be published yet", "error")
    problems = validate_flow(FLOW, WORDS)
    assert [p.node_id for p in problems] == ["n2"]
    window = page.locator("#canvas-problems")
    expect(window.locator(".problem-item")).to_have_count(1)
    expect(window).to_contain_text("Text SMS fails moderation: contains banned word “casino”.")
    expect(card(page, "n2")).to_have_attribute("data-problem", "true")
    shot(page, "publish-refused-banned-word")
    assert saved(db, aid)[0].status == ActivityStatus.DRAFT
