"""The message templates' states without a browser, on a real in-memory state tree with a real database and
sign-in behind the service calls: the page's dialog (live preview and moderation, a refusal kept in the dialog,
a save), the canvas panel's Pick a template (one undo step, nothing on a read-only canvas; only the
component's channel is offered) and Save as template (also from a read-only canvas), and the same bar in a normal
task's New task form (the form's fields filled; its content saved)."""

import pytest
from sqlmodel import Session, select

from engine.db import read_session, write_session
from engine.models import Customer, MessageTemplate, Role, User, Workspace
from engine.services import auth as auth_service
from engine.services import message_templates as mt
from engine.status import ActivityStatus
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_message_templates import CanvasMessageTemplateState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.states.message_templates import MessageTemplatesState
from marketing_app.states.reach_normal import NormalTaskState, NormalTaskTemplateState
from tests import factories as f
from tests.marketing_app.test_canvas_states import _tab_as, run


@pytest.fixture
def signed_in(session: Session, redis_url: str) -> tuple[User, str]:
    ws = f.workspace(session)
    user = f.user(session, ws, Role.MARKETER)
    session.add(Customer(workspace_id=ws.id, qaid="QA-1", name="Mei Lin", attributes={"city": "Hangzhou"}))
    session.commit()
    with write_session() as s:
        token = auth_service.login(session=s, username=user.username, password="pw")
    return user, token


def test_the_dialog_previews_moderates_and_keeps_a_refusal(session: Session, signed_in: tuple[User, str]) -> None:
    _, token = signed_in
    page = _tab_as(token)[MessageTemplatesState]
    run(page._refresh())
    assert page.can_create and page.rows == []
    run(page.open_new())
    assert page.form_open and page.f_channel == "text_sms"
    run(page.set_f_content("Hi {name} from {city}"))
    assert page.preview_content == "Hi Alex Chen from [city]" and page.moderation == "passed"
    assert page.segments == "1 SMS segment (25 GSM characters)"  # the braces are GSM escapes: 2 units each
    run(page.set_f_qaid("QA-1"))
    assert (page.preview_customer, page.preview_content) == ("QA-1 · Mei Lin", "Hi Mei Lin from Hangzhou")
    run(page.set_f_qaid("QA-404"))
    assert page.preview_error == "No customer with QAID 'QA-404'." and page.preview_content == ""
    run(page.save())  # no name: the engine's message, in the dialog
    assert page.form_open and page.form_error == "Enter a template name."
    page.set_f_name("Hello")
    run(page.save())
    assert not page.form_open and [r["name"] for r in page.rows] == ["Hello"]
    assert page.tabs[0] == ["", "All", "1"] and ["text_sms", "Text SMS", "1"] in page.tabs


def test_pick_is_one_undo_step_and_save_works_read_only(session: Session, signed_in: tuple[User, str]) -> None:
    user, token = signed_in
    activity = f.activity(session, user, status=ActivityStatus.DRAFT, name="Picks")
    session.commit()
    with write_session() as s:
        actor = s.get(User, user.id)
        sms = mt.create_template(session=s, actor=actor, channel="text_sms", name="Coupon", content="Coupon {name}")
        mt.create_template(session=s, actor=actor, channel="email", name="Mail", subject="S", content="B")
    tab = _tab_as(token)
    doc, bar = tab[CanvasState], tab[CanvasMessageTemplateState]
    run(doc.open(activity.id))
    run(doc.select("n2"))
    run(doc.flush_panel())
    assert tab[CanvasPanelState].templates  # a Text SMS has the template bar
    run(bar.load_choices(True))
    assert [c["name"] for c in bar.choices] == ["Coupon"]  # its channel's only
    run(bar.pick(str(sms.id)))
    assert doc.selected_config() == ("text_sms", {"content": "Coupon {name}"}) and doc.dirty
    run(doc._step("undo"))
    assert doc.selected_config() == ("text_sms", {"content": "Hi {name}"})

    run(doc.open(activity.id, mode="details"))  # read-only: a pick changes nothing, saving still works
    run(doc.select("n2"))
    run(bar.pick(str(sms.id)))
    assert doc.flow["nodes"][1]["config"] == {"content": "Hi {name}"}
    run(bar.open_save())
    bar.set_save_name("From details")
    run(bar.save())
    assert not bar.save_open and bar.save_error == ""
    with read_session() as s:
        saved = s.exec(select(MessageTemplate).where(MessageTemplate.name == "From details")).one()
    assert (saved.channel, saved.content) == ("text_sms", "Hi {name}")
    run(bar.open_save())
    bar.set_save_name("From details")
    run(bar.save())
    assert bar.save_open and bar.save_error == "A Text SMS template named “From details” already exists."


def test_a_normal_tasks_form_picks_a_template_and_saves_one(session: Session, signed_in: tuple[User, str]) -> None:
    user, token = signed_in
    other = f.user(session, session.get(Workspace, user.workspace_id), Role.MARKETER)
    session.commit()
    with write_session() as s:
        actor = s.get(User, user.id)
        mail = mt.create_template(session=s, actor=actor, channel="email", name="Digest", subject="Hi {name}",
                                  content="News for {city}")
        mt.create_template(session=s, actor=actor, channel="text_sms", name="Coupon", content="Coupon {name}")
        mt.create_template(session=s, actor=s.get(User, other.id), channel="email", name="Theirs", subject="S",
                           content="B", is_public=False)
    tab = _tab_as(token)
    form, bar = tab[NormalTaskState], tab[NormalTaskTemplateState]
    form.channel = "email"
    form.open_new()
    assert form.component == "email"
    run(bar.load_choices(True))
    assert [c["name"] for c in bar.choices] == ["Digest"]  # the channel's, visible to this user only
    form.set_name("Weekly")
    run(bar.pick(str(mail.id)))
    assert (form.name, form.subject, form.content) == ("Weekly", "Hi {name}", "News for {city}")
    form.set_content("News for {city}, {name}")
    run(bar.open_save())
    bar.set_save_name("Digest v2")
    run(bar.save())
    assert not bar.save_open and bar.save_error == ""
    with read_session() as s:
        saved = s.exec(select(MessageTemplate).where(MessageTemplate.name == "Digest v2")).one()
    assert (saved.channel, saved.subject, saved.content) == ("email", "Hi {name}", "News for {city}, {name}")
    form.set_form_open(False)  # no open form: nothing to pick into
    run(bar.pick(str(mail.id)))
    assert form.content == "News for {city}, {name}"
