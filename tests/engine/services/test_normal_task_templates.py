"""Message templates in a normal task's form (issue 15 × seed 003): on every Reach channel a template of the
channel's component fills the form's fields (what the form had beyond the template — the SMS signature, the
Digital SMS / Template Message template id — stays), the task then sends exactly the template's content; a form's
content saves as a template of that channel; and the templates' visibility holds (a private template is its
creator's and the admins'), with a template of another channel refused — on the real migrated database."""

import pytest
from sqlmodel import Session, select

from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Audience, MessageTemplate, Role
from engine.services import message_templates as mt
from engine.services import normal_tasks as nt
from engine.services.normal_tasks import TaskInput
from tests import factories as f

#: per channel: the template (subject, content) and what the form holds before the pick, which the pick keeps
CASES = {
    "sms": (("", "Hi {name}, 10% off in {city}"), {"signature": "Shop"}),
    "digital-sms": (("Sale for {name}", "code: {qaid}\nstore: Hangzhou"), {"template_id": "DT-7"}),
    "email": (("Hello {name}", "Your digest is ready."), {}),
    "wechat": (("", "Thanks for following, {name}!"), {}),
    "template-message": (("", "store: {city}\nwhen: today"), {"template_id": "TM-2"}),
    "app-push": (("Flash sale", "Ends at midnight, {name}"), {}),
}


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


@pytest.fixture
def users(session: Session, ws):
    return {r: f.user(session, ws, r) for r in (Role.ADMIN, Role.MARKETER, Role.MANAGER)}


@pytest.fixture
def audience(session: Session, ws) -> int:
    found = Audience(workspace_id=ws.id, name="Everyone")
    session.add(found)
    session.flush()
    return int(found.id)  # type: ignore[arg-type]


def test_every_channel_picks_a_template_into_the_form_and_the_task_sends_it(session: Session, users,
                                                                             audience: int) -> None:
    marketer = users[Role.MARKETER]
    assert set(CASES) == set(nt.CHANNELS) == set(nt.CHANNEL_COMPONENTS)
    for channel, ((subject, content), kept) in CASES.items():
        kind = nt.CHANNEL_COMPONENTS[channel]
        template = mt.create_template(session=session, actor=marketer, channel=kind, name=f"{channel} template",
                                      subject=subject, content=content)
        form = TaskInput(name=f"Task {channel}", content="old text", subject="old", audience_id=audience, **kept)
        config, picked = mt.fill_from_template(session=session, actor=marketer, template_id=int(template.id),
                                               channel=kind, config=nt.channel_config(channel, form))
        assert picked.id == template.id
        filled = nt.form_fields(channel, config, form)
        assert (filled.name, filled.audience_id) == (form.name, audience)  # the rest of the form stays
        for field, value in kept.items():
            assert getattr(filled, field) == value, (channel, field)
        # the task made from the filled form sends the template's content, and Edit shows the same fields
        task = nt.create(session=session, actor=marketer, channel=channel, data=filled)
        assert mt.from_config(kind, task.config) == (subject, content), channel
        assert nt.form_of(task) == filled.model_copy(update={"send_at": None}), channel


def test_a_forms_content_saves_as_a_template_of_its_channel(session: Session, users) -> None:
    marketer, manager = users[Role.MARKETER], users[Role.MANAGER]
    for channel, ((subject, content), kept) in CASES.items():
        kind = nt.CHANNEL_COMPONENTS[channel]
        form = TaskInput(name="x", subject=subject, content=content, **kept)
        saved = mt.save_from_config(session=session, actor=marketer, channel=kind,
                                    config=nt.channel_config(channel, form), name=f"Saved {channel}",
                                    is_public=False)
        assert (saved.channel, saved.subject, saved.content, saved.is_public, saved.owner_id) == (
            kind, subject, content, False, marketer.id), channel
    before = len(session.exec(select(MessageTemplate)).all())
    # the templates' own rules: a Digital SMS form without parameters has no content to save; managers save nothing
    with pytest.raises(Invalid, match="Enter the template's content"):
        mt.save_from_config(session=session, actor=marketer, channel="digital_sms", name="Empty",
                            config=nt.channel_config("digital-sms", TaskInput(name="x", template_id="DT-1")))
    with pytest.raises(Forbidden):
        mt.save_from_config(session=session, actor=manager, channel="text_sms", name="Nope",
                            config=nt.channel_config("sms", TaskInput(name="x", content="Hi")))
    assert len(session.exec(select(MessageTemplate)).all()) == before


def test_private_templates_are_their_creators_and_another_channels_are_refused(session: Session, ws,
                                                                                users) -> None:
    admin, marketer = users[Role.ADMIN], users[Role.MARKETER]
    other = f.user(session, ws, Role.MARKETER)
    mine = mt.create_template(session=session, actor=marketer, channel="text_sms", name="Mine", content="Psst {name}",
                              is_public=False)
    mt.create_template(session=session, actor=marketer, channel="text_sms", name="Shared", content="Hello {name}")
    mail = mt.create_template(session=session, actor=marketer, channel="email", name="Mail", subject="S",
                              content="B")
    sms = nt.CHANNEL_COMPONENTS["sms"]
    config = nt.channel_config("sms", TaskInput(name="x", content="old"))
    choices = [[t.name for t in mt.template_choices(session=session, actor=u, channel=sms)]
               for u in (admin, marketer, other)]
    assert choices == [["Mine", "Shared"], ["Mine", "Shared"], ["Shared"]]
    with pytest.raises(NotFound, match="Template not found"):
        mt.fill_from_template(session=session, actor=other, template_id=int(mine.id), channel=sms, config=config)
    for who in (admin, marketer):
        filled, _ = mt.fill_from_template(session=session, actor=who, template_id=int(mine.id), channel=sms,
                                          config=config)
        assert nt.form_fields("sms", filled).content == "Psst {name}"
    with pytest.raises(Invalid, match="That template is for Email, not Text SMS"):
        mt.fill_from_template(session=session, actor=marketer, template_id=int(mail.id), channel=sms, config=config)


def test_digital_sms_tasks_take_optional_parameters(session: Session, users, audience: int) -> None:
    marketer = users[Role.MARKETER]
    plain = nt.create(session=session, actor=marketer, channel="digital-sms",
                      data=TaskInput(name="No params", template_id="DT-1", subject="Hi", audience_id=audience))
    assert plain.config == {"template_id": "DT-1", "title": "Hi", "params": {}}
    with pytest.raises(Invalid, match="Line 2 of the parameters: write each one as key: value"):
        nt.create(session=session, actor=marketer, channel="digital-sms",
                  data=TaskInput(name="Bad", template_id="DT-1", subject="Hi", content="code: 1\nno separator",
                                 audience_id=audience))
    with pytest.raises(Invalid, match="Line 1 of the keywords"):
        nt.create(session=session, actor=marketer, channel="template-message",
                  data=TaskInput(name="Bad", template_id="TM-1", content="no separator", audience_id=audience))
