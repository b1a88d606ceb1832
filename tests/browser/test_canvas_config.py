"""The configuration panel in Chromium, for every component type: each one is configured through the form its
config schema generates (audience and component pickers, condition groups, message editors with variables,
wait-until times, ratios that must reach 100 %, key/value lists, webhook and Kafka settings) until no red dot is
left and the engine validates the saved flow. Then New from Template: the gallery, the creation dialog, the
template details window with its hints, "Don't show again", and a copy that detaches from the template."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.flow.registry import REGISTRY
from engine.flow.templates import get_template
from engine.flow.validate import validate_flow
from engine.services.preferences import get_preference
from marketing_app.states.canvas import TEMPLATE_HIDDEN_PREFERENCE
from marketing_app.states.canvas_model import starter_config
from tests.browser import expected
from tests.browser.canvas_ui import (
    canvas_app,
    canvas_tool,
    card,
    cards,
    choose,
    click_card,
    configured,
    field,
    fill,
    fit,
    new_activity,
    open_canvas,
    reveal,
    saved,
)
from tests.browser.conftest import RunningApp, Shot
from tests.browser.settle import quiet
from tests.browser.ui import sign_in, toast

pytestmark = pytest.mark.browser

#: every type but the trigger Target Audience (configured in test_canvas_build) and End (added by "End all")
CHAIN = ["behavior_event", "text_sms", "digital_sms", "email", "wechat_message", "template_message", "app_push",
         "tag", "generate_audience", "wait_until", "webhook", "push_kafka", "result_judgment", "tag_judgment",
         "event_judgment", "attribute_judgment", "audience_judgment", "ab_test", "random_grouping"]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with canvas_app(tmp_path_factory) as app:
        yield app


def chain_flow() -> dict[str, Any]:
    """The types above as freshly added components (their starter configs), five to a row, each one after the
    previous (a judgment's first group leads on)."""
    nodes, edges = [], []
    for i, t in enumerate(CHAIN):
        nodes.append({"id": f"n{i + 1}", "type": t, "config": starter_config(t),
                      "position": {"x": (i % 5) * 260, "y": (i // 5) * 190}})
        if i:
            prev = CHAIN[i - 1]
            branch = "group_1" if prev.endswith("judgment") or prev in ("ab_test", "random_grouping") else "out"
            edges.append({"source": f"n{i}", "branch": branch, "target": f"n{i + 1}"})
    return {"nodes": nodes, "edges": edges}


def open_card(page: Page, nid: str, component_type: str) -> None:
    if page.locator("#panel-close").count():
        page.click("#panel-close")
    expect(page.locator("#config-panel")).to_have_count(0)
    fit(page)
    click_card(page, nid)
    expect(page.locator("#config-panel")).to_have_attribute("data-type", component_type)


def cond(page: Page, path: str, subject: str | None, op: str, value: str | None) -> None:
    """Fill a condition row: what is compared, the operator, the value."""
    row = page.locator(f'#config-panel .panel-cond[data-path="{path}"]')
    if subject is not None:
        row.locator(".cond-subject input").fill(subject)
        row.locator(".cond-subject input").press("Tab")
    page.locator(f'#config-panel [data-select="{path}.op"]').click()
    page.get_by_role("option", name=op, exact=True).click()
    # another operator re-creates the value box (its meaning changed): type once the server has answered
    expect(page.locator(f'#config-panel [data-select="{path}.op"]')).to_have_text(op)
    quiet(page, "#config-panel")  # ... and its re-render (the new value box) is applied
    if value is not None:
        row.locator(".cond-value input").fill(value)
        row.locator(".cond-value input").press("Tab")


def add(page: Page, path: str) -> None:
    page.locator(f'#config-panel .add-item[data-path="{path}"]').click()


def pair(page: Page, path: str, key: str, value: str, *, secret: bool = False) -> None:
    """Add a key / value pair to the map at `path` (`secret`: a name whose value is write-only)."""
    before = page.locator("#config-panel .panel-kv").count()
    add(page, path)
    expect(page.locator("#config-panel .panel-kv")).to_have_count(before + 1)
    row = page.locator("#config-panel .panel-kv").last
    row.locator("input").first.fill(key)
    row.locator("input").first.press("Tab")
    expect(page.locator("#config-panel .panel-kv").last.locator("input").first).to_have_value(key)
    if secret:  # the server has taken the name: the row became write-only (a value typed before would be plain)
        expect(page.locator("#config-panel .panel-kv").last).to_have_attribute("data-kind", "kv-secret")
    row = page.locator("#config-panel .panel-kv").last
    row.locator("input").nth(1).fill(value)
    row.locator("input").nth(1).press("Tab")


def check(page: Page, path: str, choice: str) -> None:
    field(page, path).locator(f'[data-choice="{choice}"]').click()


def test_configure_every_component_type(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    aid = new_activity(db, "Every component", flow=chain_flow())
    ids = {t: f"n{i + 1}" for i, t in enumerate(CHAIN)}
    sign_in(page, app_server.url, "marketer")
    open_canvas(page, app_server.url, aid, mode="edit")
    for t in CHAIN:
        if REGISTRY[t].validate(starter_config(t)):
            configured(page, ids[t], False)
    shot(page, "unconfigured")

    open_card(page, ids["behavior_event"], "behavior_event")
    fill(page, "event", "browse_h5")
    fill(page, "times", "2")
    add(page, "filters")
    cond(page, "filters.0", "source", "equals", "wechat")
    configured(page, ids["behavior_event"])
    expect(card(page, ids["behavior_event"])).to_contain_text("browse_h5 × 2 within 24 h")

    open_card(page, ids["text_sms"], "text_sms")
    fill(page, "content", "New arrivals for you, {name}")
    configured(page, ids["text_sms"])

    open_card(page, ids["digital_sms"], "digital_sms")
    fill(page, "template_id", "DSMS_2031")
    pair(page, "params", "coupon", "20 off for {name}")
    configured(page, ids["digital_sms"])

    open_card(page, ids["email"], "email")
    fill(page, "subject", "Picked for you")
    fill(page, "body", "<p>Hello {name}</p>")
    page.locator('#config-panel [data-switch="html"]').click()
    fill(page, "sender", "Shop <news@shop.example>")
    configured(page, ids["email"])

    open_card(page, ids["wechat_message"], "wechat_message")
    expect(field(page, "content")).to_be_visible()
    choose(page, "msg_type", "Image-text (news)")
    expect(field(page, "content")).to_have_count(0)  # a news message has a title and a link instead
    fill(page, "title", "Spring collection")
    fill(page, "url", "https://shop.example.com/spring")
    configured(page, ids["wechat_message"])

    open_card(page, ids["template_message"], "template_message")
    fill(page, "template_id", "TM-OPENING")
    pair(page, "keywords", "city", "{city}")
    configured(page, ids["template_message"])

    open_card(page, ids["app_push"], "app_push")
    fill(page, "title", "Back in stock")
    fill(page, "body", "{name}, it is back")
    choose(page, "platform", "iOS")
    configured(page, ids["app_push"])

    open_card(page, ids["tag"], "tag")
    fill(page, "tag", "membership level")
    fill(page, "value", "VIP")
    configured(page, ids["tag"])

    open_card(page, ids["generate_audience"], "generate_audience")
    fill(page, "audience_name", "Browsed twice")
    configured(page, ids["generate_audience"])

    open_card(page, ids["wait_until"], "wait_until")
    expect(field(page, "at")).to_have_count(0)  # a duration: days, hours, minutes
    choose(page, "mode", "Until a time, N days later")
    expect(field(page, "hours")).to_have_count(0)
    fill(page, "days", "7")
    fill(page, "at", "18:00")
    configured(page, ids["wait_until"])
    expect(card(page, ids["wait_until"])).to_contain_text("Until 18:00, 7 days later")

    open_card(page, ids["webhook"], "webhook")
    fill(page, "url", "https://crm.example.com/hook")
    fill(page, "secret", "s3cret-key")
    pair(page, "headers", "Authorization", "Bearer abc", secret=True)
    check(page, "fields", "email")
    check(page, "fields", "phone")
    fill(page, "retries", "5")
    configured(page, ids["webhook"])

    open_card(page, ids["push_kafka"], "push_kafka")
    fill(page, "bootstrap_servers", "kafka1:9092,kafka2:9092")
    fill(page, "topic", "buyers")
    check(page, "fields", "tags")
    configured(page, ids["push_kafka"])

    # Result Judgment reads an earlier send: the picker offers the touch / data push components before it
    open_card(page, ids["result_judgment"], "result_judgment")
    page.locator('#config-panel [data-select="node_id"]').click()
    options = page.get_by_role("option")
    expect(options).to_contain_text(["Webhook (n11)"])
    expect(options.filter(has_text="Tag (n8)")).to_have_count(0)
    page.get_by_role("option", name="Webhook (n11)").click()
    cond(page, "groups.0.conditions.0", None, "is one of", "failed, pending")
    configured(page, ids["result_judgment"])
    expect(card(page, ids["result_judgment"])).to_contain_text("Results of Webhook (n11)")

    # Tag Judgment: two groups, each a branch
    open_card(page, ids["tag_judgment"], "tag_judgment")
    cond(page, "groups.0.conditions.0", "gender", "equals", "female")
    add(page, "groups")
    cond(page, "groups.1.conditions.0", "gender", "equals", "male")
    fill(page, "groups.1.name", "Men")
    configured(page, ids["tag_judgment"])
    expect(card(page, ids["tag_judgment"]).locator(".fc-branch-label")).to_have_text(["Group 1", "Men", "Others"])

    open_card(page, ids["event_judgment"], "event_judgment")
    fill(page, "groups.0.conditions.0.event", "register_app")
    page.locator('#config-panel [data-switch="groups.0.conditions.0.performed"]').click()
    fill(page, "groups.0.conditions.0.window_hours", "24")
    configured(page, ids["event_judgment"])

    open_card(page, ids["attribute_judgment"], "attribute_judgment")
    cond(page, "groups.0.conditions.0", "source", "is one of", "wechat, app")
    add(page, "groups.0.conditions")
    cond(page, "groups.0.conditions.1", "channel", "exists", None)
    configured(page, ids["attribute_judgment"])

    open_card(page, ids["audience_judgment"], "audience_judgment")
    choose(page, "groups.0.audience_id", "All members")
    fill(page, "groups.0.priority", "2")
    add(page, "groups")
    choose(page, "groups.1.audience_id", "New members last 30 days")
    fill(page, "groups.1.priority", "1")
    configured(page, ids["audience_judgment"])

    # ratios must add up to 100 %
    open_card(page, ids["ab_test"], "ab_test")
    fill(page, "groups.0.ratio", "60")
    expect(page.locator("#config-panel .ratio-total")).to_have_text("Total 110%")
    configured(page, ids["ab_test"], False)
    fill(page, "groups.1.ratio", "40")
    expect(page.locator("#config-panel .ratio-total")).to_have_text("Total 100%")
    fill(page, "target_event", "purchase")
    configured(page, ids["ab_test"])
    expect(card(page, ids["ab_test"]).locator(".fc-branch-label")).to_have_text(["Group 1 · 60%", "Group 2 · 40%"])

    open_card(page, ids["random_grouping"], "random_grouping")
    add(page, "groups")
    expect(card(page, ids["random_grouping"]).locator(".fc-branch-label")).to_have_count(3)
    for i, ratio in enumerate(("20", "30", "50")):
        fill(page, f"groups.{i}.ratio", ratio)
    configured(page, ids["random_grouping"])

    page.click("#panel-close")
    canvas_tool(page, "add-ends").click()
    expect(page.locator(".fc-dot")).to_have_count(0)
    fit(page)
    shot(page, "fully-configured")
    page.click("#canvas-save")
    page.wait_for_url(re.compile(r".*/$"))
    _, flow = saved(db, aid)
    assert validate_flow(flow) == []
    assert {n["type"] for n in flow["nodes"]} == set(CHAIN) | {"end"}
    by_type = {n["type"]: n["config"] for n in flow["nodes"]}
    assert by_type["wait_until"] == {"mode": "days_at", "days": 7, "at": "18:00"}
    assert by_type["attribute_judgment"]["groups"][0]["conditions"] == [
        {"op": "in", "value": ["wechat", "app"], "property": "source"}, {"op": "exists", "value": None,
                                                                          "property": "channel"}]
    # write-only secrets: the flow names stored, encrypted values (tests/browser/test_canvas_secrets.py)
    assert set(by_type["webhook"]["headers"]) == {"Authorization"}
    assert set(by_type["webhook"]["headers"]["Authorization"]) == set(by_type["webhook"]["secret"]) == {"$secret"}
    assert by_type["webhook"]["fields"] == ["email", "phone"]
    assert [g["ratio"] for g in by_type["random_grouping"]["groups"]] == [20, 30, 50]


def test_new_from_template(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    template = get_template("first_purchase_repurchase")
    assert template is not None
    sign_in(page, app_server.url, "marketer")

    # the list's New activity dialog leads to the templates
    page.click("#new-activity")
    page.click("#new-from-template")
    page.wait_for_url(re.compile(r".*/templates$"))
    expect(page.locator(".template-card")).to_have_count(3)
    expect(page.locator(".template-card").first.locator(".fc-node")).not_to_have_count(0)  # a live preview
    shot(page, "templates")

    page.locator(f'.use-template[data-template="{template.key}"]').click()
    expect(page.locator("#template-dialog")).to_contain_text(template.name)
    page.fill("#tpl-name", "Re-purchase, spring")
    page.click("#tpl-group")
    page.get_by_role("option", name="Loyalty").click()
    page.click("#tpl-submit")
    page.wait_for_url(re.compile(r".*/activities/\d+/canvas\?mode=edit$"))
    aid = int(re.findall(r"/activities/(\d+)/", page.url)[0])
    activity, flow = saved(db, aid)
    assert activity.template_key == template.key and flow == template.flow
    expect(cards(page)).to_have_count(len(template.flow["nodes"]))

    # the template details window: the key components, a hint above each, View rules / View content
    window = page.locator("#template-details")
    expect(window).to_contain_text(template.name)
    expect(window.locator(".key-item")).to_have_count(len(template.key_components))
    key = template.key_components[-1]
    window.locator(f'.key-item[data-node="{key.node_id}"]').click()
    hint = page.locator(f'.fc-hint[data-hint="{key.node_id}"]')
    expect(hint).to_contain_text(key.hint)
    reveal(page, hint)  # the canvas centres the component (once the panel has opened)
    shot(page, "template-hint")
    hint.locator(".fc-hint-action").click()
    expect(page.locator("#hint-dialog")).to_contain_text(key.action)
    expect(page.locator("#hint-detail")).to_have_text(key.detail)
    page.click("#hint-copy")
    toast(page, "Copied to the clipboard.")
    page.keyboard.press("Escape")
    expect(page.locator("#hint-dialog")).to_have_count(0)

    # fold / expand
    page.click("#template-toggle")
    expect(window.locator(".key-item")).to_have_count(0)
    page.click("#template-toggle")
    expect(window.locator(".key-item")).to_have_count(len(template.key_components))

    # a copy (Manage Versions → Copy) is detached from the template: no details window on it
    page.click("#canvas-versions")
    page.locator('#versions-drawer [data-action="copy"]').first.click()
    page.wait_for_url(lambda url: "/canvas?mode=edit" in url and f"/activities/{aid}/" not in url)
    copy_id = int(re.findall(r"/activities/(\d+)/", page.url)[0])
    assert copy_id != aid and saved(db, copy_id)[0].template_key is None
    expect(page.locator("#canvas-name")).to_have_text("Re-purchase, spring-Copy")
    expect(page.locator("#template-details")).to_have_count(0)

    # "Don't show again": hidden for this user from now on
    open_canvas(page, app_server.url, aid, mode="edit")
    expect(window).to_be_visible()
    page.click("#template-hide")
    expect(window).to_have_count(0)
    open_canvas(page, app_server.url, aid, mode="edit")
    expect(cards(page)).to_have_count(len(template.flow["nodes"]))
    expect(page.locator("#template-details")).to_have_count(0)
    assert expected.call(db, "marketer", lambda s, u: get_preference(
        session=s, actor=u, key=TEMPLATE_HIDDEN_PREFERENCE)) is True
