"""Message templates in the browser over the demo data: the sidebar's Templates entry, creating an SMS template
with its live preview for a customer picked by QAID (the engine's renderer: their name and city), the segment
count and the moderation badge (a banned word fails it), the channel tabs; then on the canvas a Text SMS
component filled from the template ("Pick a template", saved with Save Draft) and a component's content saved
as a new template ("Save as template"), which the page then lists; and the same bar in a normal task's New task
form on the Reach Tasks page (the channel's visible templates; the form filled; its content saved as one)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from engine.db import make_engine
from engine.models import Customer, User
from engine.models.normal_task import NormalTask
from engine.services import message_templates as mt
from engine.services import moderation
from tests.browser.canvas_ui import canvas_tool, click_card, field, fill, new_activity, open_canvas, saved
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import dismiss_toasts, sign_in, toast
from tests.factories import valid_flow

pytestmark = pytest.mark.browser

CONTENT = "Hi {name}, a gift waits in {city}: {short_link}"


@contextmanager
def _session(database_url: str, *, commit: bool = False) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            if commit:
                session.commit()
    finally:
        engine.dispose()


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def served(db: str, username: str, **query) -> mt.TemplatePage:  # noqa: ANN003
    with _session(db) as session:
        return mt.list_templates(session=session, actor=_user(session, username), **query)


def a_customer(db: str) -> Customer:
    """A demo customer with a name and a city attribute, for the preview."""
    with _session(db) as session:
        return next(c for c in session.exec(select(Customer).order_by(Customer.id)).all()
                    if c.name and (c.attributes or {}).get("city"))


def expect_row_names(page: Page, found: mt.TemplatePage) -> None:
    expect(page.locator(".template-row")).to_have_count(len(found.rows))
    assert page.locator(".template-row").evaluate_all("rs => rs.map(r => r.dataset.name)") == \
        [r.name for r in found.rows]


def test_create_an_sms_template_with_its_preview_and_use_it_on_the_canvas(app_server: RunningApp, page: Page,
                                                                          shot: Shot) -> None:
    db = app_server.database_url
    customer = a_customer(db)
    with _session(db, commit=True) as session:
        moderation.set_words(session=session, actor=_user(session, "admin"), words=["casino"])

    sign_in(page, app_server.url, "marketer")
    page.get_by_role("link", name="Templates").click()
    page.wait_for_url("**/templates/messages")
    expect(page.locator("#page-title")).to_have_text("Message templates")
    expect_row_names(page, served(db, "marketer"))
    before = served(db, "marketer").total

    # New template: Text SMS, the live preview for a customer picked by QAID, the segment count, moderation
    page.click("#new-template")
    expect(page.locator("#template-dialog")).to_be_visible()
    page.fill("#template-name", "Gift in your city")
    page.fill("#template-content", CONTENT)
    expect(page.locator("#preview-content")).to_contain_text("Hi Alex Chen, a gift waits in [city]: http")
    expect(page.locator("#template-segments")).to_have_text(re.compile(r"^1 SMS segment \(\d+ GSM characters\)$"))
    expect(page.locator("#template-status .moderation-badge")).to_have_attribute("data-status", "passed")
    page.fill("#template-qaid", customer.qaid)
    city = customer.attributes["city"]
    expect(page.locator("#preview-content")).to_contain_text(f"Hi {customer.name}, a gift waits in {city}: http")
    expect(page.locator("#preview-customer")).to_have_text(f"{customer.qaid} · {customer.name}")
    shot(page, "new-template-preview")
    page.fill("#template-qaid", "NOBODY-1")
    expect(page.locator("#preview-error")).to_contain_text("No customer with QAID")
    page.fill("#template-content", CONTENT + " Casino night!")
    expect(page.locator("#template-status .moderation-badge")).to_have_attribute("data-status", "failed")
    expect(page.locator("#template-reasons")).to_have_text("contains banned word “casino”")
    shot(page, "fails-moderation")
    page.fill("#template-content", CONTENT)
    expect(page.locator("#template-status .moderation-badge")).to_have_attribute("data-status", "passed")
    page.fill("#template-qaid", customer.qaid)
    expect(page.locator("#preview-customer")).to_have_text(f"{customer.qaid} · {customer.name}")
    page.click("#template-save")
    toast(page, "Template “Gift in your city” created.")
    expect(page.locator("#template-dialog")).to_have_count(0)
    rows = served(db, "marketer").rows
    assert (rows[0].name, rows[0].channel, rows[0].content) == ("Gift in your city", "text_sms", CONTENT)
    assert served(db, "marketer").total == before + 1
    expect_row_names(page, served(db, "marketer"))
    expect(page.locator('.template-row[data-name="Gift in your city"] .moderation-badge')).to_have_attribute(
        "data-status", "passed")

    # a limit the engine refuses is said in the dialog, nothing saved
    page.click("#new-template")
    page.fill("#template-name", "x" * 61)
    page.fill("#template-content", "Hello")
    page.click("#template-save")
    expect(page.locator("#template-error")).to_contain_text("at most 60 characters (61 entered)")
    page.keyboard.press("Escape")
    expect(page.locator("#template-dialog")).to_have_count(0)
    assert served(db, "marketer").total == before + 1

    # the channel tabs filter with the engine's counts
    page.click('.channel-tab[data-channel="digital_sms"]')
    expect(page.locator('.channel-tab[data-channel="digital_sms"]')).to_have_attribute("data-active", "true")
    expect(page.locator("#templates-empty")).to_be_visible()
    page.click('.channel-tab[data-channel="email"]')
    expect_row_names(page, served(db, "marketer", channel="email"))
    page.click('.channel-tab[data-channel="text_sms"]')
    expect_row_names(page, served(db, "marketer", channel="text_sms"))
    shot(page, "templates-list")

    # the canvas: a Text SMS component picks the template; its content is saved with the draft
    activity_id = new_activity(db, "Template pick", flow=valid_flow())
    open_canvas(page, app_server.url, activity_id, mode="edit")
    click_card(page, "n2")
    expect(page.locator("#template-bar")).to_be_visible()
    expect(page.locator("#create-template-link")).to_have_attribute("href", "/templates/messages?channel=text_sms")
    page.click("#pick-template")
    page.locator('.template-choice[data-name="Gift in your city"]').click()
    toast(page, "Filled from the template “Gift in your city”")
    expect(field(page, "content").locator("textarea")).to_have_value(CONTENT)
    shot(page, "picked-on-canvas")
    dismiss_toasts(page)  # nothing over the toolbar
    canvas_tool(page, "undo").click()  # a pick is one undo step
    expect(field(page, "content").locator("textarea")).to_have_value("Hi {name}")
    expect(canvas_tool(page, "undo")).to_be_disabled()
    canvas_tool(page, "redo").click()
    expect(field(page, "content").locator("textarea")).to_have_value(CONTENT)
    fill(page, "link_url", "https://shop.example.com/gift")
    page.click("#canvas-save")
    toast(page, "Saved “Template pick” as a draft.")
    page.wait_for_url(re.compile(r".*/$"))
    _, flow = saved(db, activity_id)
    assert flow["nodes"][1]["config"]["content"] == CONTENT

    # Save as template: a component's current content becomes a new template of its channel
    open_canvas(page, app_server.url, activity_id, mode="edit")
    click_card(page, "n2")
    fill(page, "content", "Flash sale today, {name}!")
    page.click("#save-as-template")
    page.fill("#save-template-name", "Flash sale")
    page.click("#save-template-ok")
    toast(page, "Saved as the template “Flash sale”.")
    shot(page, "saved-as-template")
    found = {r.name: r for r in served(db, "marketer", channel="text_sms").rows}
    assert found["Flash sale"].content == "Flash sale today, {name}!"
    page.click("#canvas-save")  # leave the canvas without unsaved changes (it would ask)
    toast(page, "Saved “Template pick” as a draft.")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(f"{app_server.url}/templates/messages?channel=text_sms")
    expect(page.locator('.channel-tab[data-channel="text_sms"]')).to_have_attribute("data-active", "true")
    expect_row_names(page, served(db, "marketer", channel="text_sms"))
    expect(page.locator('.template-row[data-name="Flash sale"]')).to_be_visible()

    # Delete asks first
    page.locator('.template-row[data-name="Flash sale"] .delete-template').click()
    page.click("#template-delete-ok")
    toast(page, "Template “Flash sale” deleted.")
    expect(page.locator('.template-row[data-name="Flash sale"]')).to_have_count(0)
    shot(page, "after-delete")


def test_a_manager_reads_templates_and_cannot_change_them(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    with _session(db, commit=True) as session:
        mt.create_template(session=session, actor=_user(session, "marketer"), channel="email", name="Welcome mail",
                           subject="Welcome, {name}", content="Glad you joined.")
        mt.create_template(session=session, actor=_user(session, "marketer"), channel="email", name="Private mail",
                           subject="Psst", content="Only mine.", is_public=False)
    sign_in(page, app_server.url, "manager")
    page.goto(f"{app_server.url}/templates/messages?channel=email")
    expect_row_names(page, served(db, "manager", channel="email"))
    expect(page.locator('.template-row[data-name="Private mail"]')).to_have_count(0)
    expect(page.locator("#new-template")).to_be_disabled()
    expect(page.locator('.template-row[data-name="Welcome mail"] .delete-template')).to_be_disabled()
    page.locator('.template-row[data-name="Welcome mail"] .edit-template').click()  # "View"
    expect(page.locator("#template-save")).to_be_disabled()
    expect(page.locator("#template-content")).to_have_attribute("readonly", "")
    expect(page.locator("#preview-subject")).to_have_text("Welcome, Alex Chen")
    shot(page, "manager-view")


def _normal_tasks(db: str, name: str) -> list[NormalTask]:
    with _session(db) as session:
        return list(session.exec(select(NormalTask).where(NormalTask.name == name)).all())


def test_a_normal_task_picks_a_template_and_saves_its_content_as_one(app_server: RunningApp, page: Page,
                                                                     shot: Shot) -> None:
    db = app_server.database_url
    with _session(db, commit=True) as session:
        mt.create_template(session=session, actor=_user(session, "marketer"), channel="email", name="Monthly digest",
                           subject="Your {city} digest, {name}", content="Hello {name}, here is the month.")
        mt.create_template(session=session, actor=_user(session, "marketer2"), channel="email",
                           name="Leo's draft mail", subject="Psst", content="Only Leo sees this.", is_public=False)
        mt.create_template(session=session, actor=_user(session, "marketer"), channel="text_sms", name="SMS only",
                           content="Hi {name}")
    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/reach/email")
    page.click("#new-task")
    page.fill("#normal-name", "Digest from a template")
    expect(page.locator("#create-template-link")).to_have_attribute("href", "/templates/messages?channel=email")

    # the picker offers this channel's templates the user may see: not another channel's, not a private one of Leo's
    page.click("#pick-template")
    expect(page.locator(".template-choice")).to_have_count(len(served(db, "marketer", channel="email").rows))
    expect(page.locator('.template-choice[data-name="Monthly digest"]')).to_be_visible()
    expect(page.locator('.template-choice[data-name="Leo\'s draft mail"]')).to_have_count(0)
    expect(page.locator('.template-choice[data-name="SMS only"]')).to_have_count(0)
    shot(page, "normal-task-pick-menu")
    page.locator('.template-choice[data-name="Monthly digest"]').click()
    toast(page, "Filled from the template “Monthly digest”.")
    expect(page.locator("#normal-subject")).to_have_value("Your {city} digest, {name}")
    expect(page.locator("#normal-content")).to_have_value("Hello {name}, here is the month.")
    expect(page.locator("#normal-name")).to_have_value("Digest from a template")  # the rest of the form stays
    shot(page, "normal-task-filled")

    # Save as template: the form's content, a private template of the channel
    page.fill("#normal-content", "Hello {name}, here is the month, with a coupon.")
    page.click("#save-as-template")
    page.fill("#save-template-name", "Monthly digest")  # the name is taken on this channel: said in the dialog
    page.click("#save-template-ok")
    expect(page.locator("#save-template-error")).to_have_text(
        "An Email template named “Monthly digest” already exists.")
    page.fill("#save-template-name", "Monthly digest + coupon")
    expect(page.locator("#save-template-error")).to_have_count(0)  # a new name clears it (the dialog then shrinks)
    page.click("#save-template-public")  # private: the creator's and the admins'
    expect(page.locator("#save-template-public")).to_have_attribute("data-state", "unchecked")
    page.locator("#save-template-public").evaluate(  # its slide ended, for the screenshot
        "el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished))")
    shot(page, "normal-task-save-as-template")
    page.click("#save-template-ok")
    toast(page, "Saved as the template “Monthly digest + coupon”.")
    saved = {r.name: r for r in served(db, "marketer", channel="email").rows}["Monthly digest + coupon"]
    assert (saved.subject, saved.content, saved.is_public) == (
        "Your {city} digest, {name}", "Hello {name}, here is the month, with a coupon.", False)
    assert "Monthly digest + coupon" not in {r.name for r in served(db, "marketer2", channel="email").rows}

    # the task itself is saved with the picked (and edited) content, Moderating
    expect(page.locator("#normal-tasks")).to_be_visible()
    page.click("#normal-save")
    toast(page, "“Digest from a template” is being moderated")
    (task,) = _normal_tasks(db, "Digest from a template")
    assert task.config == {"subject": "Your {city} digest, {name}",
                           "body": "Hello {name}, here is the month, with a coupon."}
    shot(page, "normal-task-saved")
