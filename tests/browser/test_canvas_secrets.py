"""Write-only secrets in the configuration panel, in Chromium: a webhook's signing secret and Authorization
header are typed once, shown afterwards only as "set · replace", and their values never travel back to the page
— not in its content, not in any message the server sends over the websocket. Replacing writes a new value; a
copy by another marketer shows "not copied" and must set its own."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import SecretValue, User
from engine.secrets import decrypt
from engine.services.activities import copy_activity, set_public
from tests.browser.canvas_ui import canvas_app, card, click_card, field, fill, new_activity, open_canvas, saved
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser

FIRST, SECOND, TOKEN = "brw-sign-7e1f42", "brw-sign-second-90ab", "Bearer brw-tok-3d5c"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def hook_flow() -> dict[str, Any]:
    def node(nid: str, type_: str, x: int, **config: Any) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": 0}}

    return {"nodes": [node("n1", "behavior_event", 0, event="signup", times=1, window_hours=24),
                      node("n2", "webhook", 260, url="https://crm.example.com/in"), node("n3", "end", 520)],
            "edges": [{"source": "n1", "branch": "out", "target": "n2"},
                      {"source": "n2", "branch": "out", "target": "n3"}]}


def stored(db: str, ref: dict[str, str]) -> str:
    """The value behind a flow's marker, decrypted from the app's database (the key file is shared)."""
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            row = session.get(SecretValue, ref["$secret"])
            assert row is not None
            return decrypt(row.ciphertext)
    finally:
        engine.dispose()


def listen(page: Page) -> list[str]:
    """Every websocket message the server sends to the page, as text."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    return frames


def assert_never_sent(page: Page, frames: list[str], *values: str) -> None:
    assert frames, "no websocket traffic was recorded"
    content = page.content()
    for value in values:
        assert value not in content
        assert not any(value in frame for frame in frames), value


def test_secrets_are_write_only_in_the_panel(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    aid = new_activity(db, "Signed CRM push", flow=hook_flow())
    frames = listen(page)
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid)
    click_card(page, "n2")
    secret = field(page, "secret")
    expect(secret.locator("input[type=password]")).to_have_attribute("placeholder", "not set")

    fill(page, "secret", FIRST)
    expect(secret.locator(".secret-set")).to_have_text("set")
    expect(secret).to_contain_text("set·replace")
    expect(secret.locator("input")).to_have_count(0)  # the typed value is gone from the page with its box
    page.locator('#config-panel .add-item[data-path="headers"]').click()
    row = page.locator("#config-panel .panel-kv").last
    row.locator("input").first.fill("Authorization")
    row.locator("input").first.press("Tab")
    header = page.locator("#config-panel .panel-kv-secret").last
    expect(header.locator("input[type=password]")).to_have_count(1)  # a credential header is write-only too
    header.locator("input[type=password]").fill(TOKEN)
    header.locator("input[type=password]").press("Tab")
    expect(page.locator("#config-panel .panel-kv-secret").last.locator(".secret-set")).to_have_text("set")
    shot(page, "secrets-set")
    assert_never_sent(page, frames, FIRST, TOKEN)

    secret.locator(".secret-replace").click()  # set · replace: a new value, typed blind
    expect(secret.locator("input[type=password]")).to_be_visible()
    fill(page, "secret", SECOND)
    expect(secret.locator(".secret-set")).to_have_text("set")
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    _, flow = saved(db, aid)
    config = flow["nodes"][1]["config"]
    assert FIRST not in json.dumps(flow) and SECOND not in json.dumps(flow) and TOKEN not in json.dumps(flow)
    assert stored(db, config["secret"]) == SECOND  # replacing wrote the new value
    assert stored(db, config["headers"]["Authorization"]) == TOKEN

    open_canvas(page, app_server.url, aid)  # opened again: "set · replace", never the value
    click_card(page, "n2")
    expect(field(page, "secret").locator(".secret-set")).to_have_text("set")
    expect(page.locator("#config-panel .panel-kv-secret .secret-set")).to_have_text("set")
    shot(page, "secrets-reopened")
    assert_never_sent(page, frames, FIRST, SECOND, TOKEN)


def test_a_copy_asks_for_its_own_secret(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    flow = hook_flow()
    flow["nodes"][1]["config"] |= {"secret": FIRST, "headers": {"Authorization": TOKEN}}
    aid = new_activity(db, "Public signed push", flow=flow)
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            owner = session.exec(select(User).where(User.username == "marketer")).one()
            set_public(session=session, actor=owner, activity_id=aid, public=True)
            other = session.exec(select(User).where(User.username == "marketer2")).one()
            copy_id = int(copy_activity(session=session, actor=other, activity_id=aid).id or 0)
            session.commit()
    finally:
        engine.dispose()
    frames = listen(page)
    sign_in(page, app_server.url, "marketer2")
    open_canvas(page, app_server.url, copy_id)
    expect(card(page, "n2")).to_have_attribute("data-configured", "false")
    click_card(page, "n2")
    expect(field(page, "secret")).to_contain_text("not copied with the activity: set your own")
    expect(page.locator("#config-panel .panel-kv-secret input[type=password]")).to_have_attribute(
        "placeholder", "not copied: set your own")
    shot(page, "copy-without-secrets")
    assert_never_sent(page, frames, FIRST, TOKEN)
