"""Message templates (issue 15): limits with clear refusals that change nothing, the channel filter, search,
sort and paging, the preview rendered by the components' own renderer for a customer picked by QAID, the
moderation status and SMS segment count from the reach tasks' moderation, visibility and roles, and the
canvas's Pick a template / Save as template round trip — on the real migrated database."""

import pytest
from sqlmodel import Session, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.flow.registry import get_spec
from engine.models import Customer, CustomerTag, MessageTemplate, Role
from engine.services import message_templates as mt
from engine.services import moderation
from tests import factories as f


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


@pytest.fixture
def users(session: Session, ws):
    return {r: f.user(session, ws, r) for r in (Role.ADMIN, Role.MARKETER, Role.MANAGER, Role.REVIEWER)}


def _count(session: Session) -> int:
    return len(session.exec(select(MessageTemplate)).all())


def test_limits_are_refused_with_clear_messages_and_nothing_saved(session: Session, users) -> None:
    m = users[Role.MARKETER]
    cases = [
        (dict(channel="text_sms", name="", content="Hi"), Invalid, "Enter a template name"),
        (dict(channel="text_sms", name="x" * 61, content="Hi"), Invalid, "at most 60 characters \\(61 entered\\)"),
        (dict(channel="text_sms", name="A", content="  "), Invalid, "Enter the template's content"),
        (dict(channel="text_sms", name="A", content="x" * 501), Invalid,
         "at most 500 characters for Text SMS \\(501 entered\\)"),
        (dict(channel="text_sms", name="A", content="Hi {name"), Invalid, "unmatched brace"),
        (dict(channel="text_sms", name="A", content="Hi", subject="S"), Invalid, "has no subject"),
        (dict(channel="email", name="A", content="Body"), Invalid, "Enter the subject: an Email needs one"),
        (dict(channel="email", name="A", content="Body", subject="s" * 201), Invalid, "at most 200 characters"),
        (dict(channel="app_push", name="A", content="b" * 501, subject="T"), Invalid, "at most 500 characters"),
        (dict(channel="template_message", name="A", content="no colon here"), Invalid, "Line 1: write each"),
        (dict(channel="template_message", name="A", content="city: " + "x" * 201), Invalid,
         "Line 1: a value can be at most 200"),
        (dict(channel="fax", name="A", content="Hi"), Invalid, "Unknown channel 'fax'"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            mt.create_template(session=session, actor=m, **kwargs)
    assert _count(session) == 0
    mt.create_template(session=session, actor=m, channel="text_sms", name="Welcome", content="Hi {name}")
    with pytest.raises(Conflict, match="A Text SMS template named “welcome” already exists"):
        mt.create_template(session=session, actor=m, channel="text_sms", name="welcome", content="Other")
    # the same name on another channel is another template
    mt.create_template(session=session, actor=m, channel="email", name="Welcome", subject="Hi", content="Body")
    assert _count(session) == 2


def test_limits_are_the_components_own(session: Session, users) -> None:
    for channel in mt.CHANNELS.values():
        schema = get_spec(channel.key).schema()["properties"]
        if not channel.pairs:
            assert channel.content_max == schema[channel.content_field]["maxLength"]
        if channel.subject_field:
            assert channel.subject_max == schema[channel.subject_field]["maxLength"]


def test_channel_filter_search_sort_and_paging(session: Session, users) -> None:
    m = users[Role.MARKETER]
    for i in range(5):
        mt.create_template(session=session, actor=m, channel="text_sms", name=f"SMS {i}", content=f"Sale {i}")
    for i in range(3):
        mt.create_template(session=session, actor=m, channel="email", name=f"Mail {i}", subject="S",
                           content="Spring sale")
    mt.create_template(session=session, actor=m, channel="app_push", name="Push", subject="T", content="Hello")
    every = mt.list_templates(session=session, actor=m)
    assert every.total == 9 and every.counts == {"text_sms": 5, "email": 3, "app_push": 1}
    sms = mt.list_templates(session=session, actor=m, channel="text_sms", sort="name", page_size=2)
    assert (sms.total, sms.pages) == (5, 3)
    assert [r.name for r in sms.rows] == ["SMS 0", "SMS 1"]
    last = mt.list_templates(session=session, actor=m, channel="text_sms", sort="name", page_size=2, page=3)
    assert [r.name for r in last.rows] == ["SMS 4"]
    down = mt.list_templates(session=session, actor=m, channel="text_sms", sort="name", descending=True)
    assert [r.name for r in down.rows] == [f"SMS {i}" for i in (4, 3, 2, 1, 0)]
    found = mt.list_templates(session=session, actor=m, query="SALE")  # name or content, any case
    assert found.total == 8 and found.counts == {"text_sms": 5, "email": 3}
    assert {r.channel for r in mt.list_templates(session=session, actor=m, channel="email").rows} == {"email"}
    assert mt.list_templates(session=session, actor=m, query="100%").total == 0  # LIKE wildcards are literal
    with pytest.raises(Invalid, match="Unknown sort"):
        mt.list_templates(session=session, actor=m, sort="owner")


def test_preview_renders_with_the_engines_renderer_for_a_customer(session: Session, ws, users) -> None:
    c = Customer(workspace_id=ws.id, qaid="QA-77", name="Mei Lin", phone="+8613800138000", email="mei@example.com",
                 attributes={"city": "Hangzhou", "vip": {"level": 3}})
    session.add(c)
    session.flush()
    session.add(CustomerTag(customer_id=c.id, tag="tier", value="gold"))
    session.flush()
    text = "Hi {name} ({qaid}) in {city}, level {vip.level}, {tier}: {short_link} {missing}. Call {phone}"
    marketer, admin = users[Role.MARKETER], users[Role.ADMIN]
    shown = mt.preview(session=session, actor=marketer, channel="text_sms", content=text, qaid=" QA-77 ")
    assert shown.customer == "QA-77 · Mei Lin"
    assert shown.content.startswith("Hi Mei Lin (QA-77) in Hangzhou, level 3, gold: http")
    assert "/Ab3dE9xY2q " in shown.content and ". Call •••• 8000" in shown.content  # phone masked
    assert shown.variables == ["name", "qaid", "city", "vip.level", "tier", "short_link", "missing", "phone"]
    # the rendered text is counted: the mask's bullets are not GSM-7, so 98 Unicode characters are 2 SMS
    assert (shown.segments, shown.segment_label) == (2, "2 SMS segments (98 Unicode characters)")
    assert mt.preview(session=session, actor=admin, channel="text_sms", content="{phone}",
                      qaid="QA-77").content == "+8613800138000"  # an admin sees the number
    mail = mt.preview(session=session, actor=marketer, channel="email", subject="For {name}", content="{email}",
                      qaid="QA-77")
    assert (mail.subject, mail.content, mail.segments) == ("For Mei Lin", "mei@example.com", 0)
    pairs = mt.preview(session=session, actor=marketer, channel="template_message",
                       content="store: {city}\nname: {name}", qaid="QA-77")
    assert pairs.content == "store: Hangzhou\nname: Mei Lin"
    sample = mt.preview(session=session, actor=marketer, channel="text_sms", content="Hi {name} {city}")
    assert (sample.customer, sample.content) == ("", "Hi Alex Chen [city]")
    with pytest.raises(NotFound, match="No customer with QAID"):
        mt.preview(session=session, actor=marketer, channel="text_sms", content="x", qaid="nobody")
    other = f.workspace(session)
    session.add(Customer(workspace_id=other.id, qaid="QA-OTHER", name="Elsewhere"))
    session.flush()
    with pytest.raises(NotFound):  # another workspace's customer is not found
        mt.preview(session=session, actor=marketer, channel="text_sms", content="x", qaid="QA-OTHER")


def test_moderation_status_and_segments(session: Session, users) -> None:
    admin, m = users[Role.ADMIN], users[Role.MARKETER]
    moderation.set_words(session=session, actor=admin, words=["casino"])
    ok = mt.create_template(session=session, actor=m, channel="text_sms", name="Ok", content="a" * 161)
    bad = mt.create_template(session=session, actor=m, channel="text_sms", name="Bad", content="Win at the CASINO 好")
    mail = mt.create_template(session=session, actor=m, channel="email", name="Mail", subject="Casino night",
                              content="Body")
    rows = {r.id: r for r in mt.list_templates(session=session, actor=m).rows}
    assert rows[ok.id].moderation.passed and rows[ok.id].moderation.segments == 2
    assert rows[ok.id].moderation.segment_label == "2 SMS segments (161 GSM characters)"
    assert not rows[bad.id].moderation.passed
    assert rows[bad.id].moderation.reasons == ["contains banned word “casino”"]
    assert rows[bad.id].moderation.segment_label == "1 SMS segment (19 Unicode characters)"
    assert rows[mail.id].moderation.reasons == ["contains banned word “casino”"]
    assert rows[mail.id].moderation.segments == 0
    long = mt.moderation_of("text_sms", "", "x" * 500 + "好", [])  # 501 units: over the SMS length rule
    assert not long.passed and "at most 500 can be sent" in long.reasons[0]


def test_visibility_and_roles(session: Session, ws, users) -> None:
    admin, m, manager, reviewer = (users[r] for r in (Role.ADMIN, Role.MARKETER, Role.MANAGER, Role.REVIEWER))
    other = f.user(session, ws, Role.MARKETER)
    public = mt.create_template(session=session, actor=m, channel="text_sms", name="Public", content="Hi")
    private = mt.create_template(session=session, actor=m, channel="text_sms", name="Private", content="Hi",
                                 is_public=False)
    names = [{r.name for r in mt.list_templates(session=session, actor=u).rows}
             for u in (admin, m, manager, reviewer, other)]
    assert names == [{"Public", "Private"}] * 2 + [{"Public"}] * 3
    assert [r.name for r in mt.template_choices(session=session, actor=other, channel="text_sms")] == ["Public"]
    for u in (other, manager):  # a private template is not found by id either
        with pytest.raises(NotFound):
            mt.get_template(session=session, actor=u, template_id=private.id)
    stranger = f.user(session, f.workspace(session), Role.ADMIN)
    with pytest.raises(NotFound):
        mt.get_template(session=session, actor=stranger, template_id=public.id)
    # another marketer reads the public one but changes nothing; managers and reviewers create nothing
    with pytest.raises(Forbidden, match="creator or an admin"):
        mt.edit_template(session=session, actor=other, template_id=public.id, name="Mine", content="x")
    with pytest.raises(Forbidden, match="creator or an admin"):
        mt.delete_template(session=session, actor=other, template_id=public.id)
    for u in (manager, reviewer):
        with pytest.raises(Forbidden):
            mt.create_template(session=session, actor=u, channel="text_sms", name="N", content="x")
        assert not mt.list_templates(session=session, actor=u).can_create
    assert mt.list_templates(session=session, actor=other).rows[0].why_not == mt.NOT_YOURS
    # the creator and admins edit and delete; the channel stays
    edited = mt.edit_template(session=session, actor=admin, template_id=public.id, name="Renamed",
                              content="Hello {name}", is_public=False)
    assert (edited.name, edited.content, edited.channel, edited.is_public) == ("Renamed", "Hello {name}",
                                                                              "text_sms", False)
    assert edited.updated_at >= edited.created_at
    with pytest.raises(Conflict):
        mt.edit_template(session=session, actor=m, template_id=private.id, name="renamed", content="x")
    mt.delete_template(session=session, actor=m, template_id=private.id)
    assert {t.name for t in session.exec(select(MessageTemplate)).all()} == {"Renamed"}


def test_pick_and_save_round_trip_through_a_components_config() -> None:
    sms = mt.apply_to_config("text_sms", {"content": "old", "signature": "Shop"}, subject="", content="Hi {name}")
    assert sms == {"content": "Hi {name}", "signature": "Shop"} and mt.from_config("text_sms", sms) == ("", "Hi {name}")
    push = mt.apply_to_config("app_push", {"platform": "ios"}, subject="T {name}", content="B")
    assert push == {"platform": "ios", "title": "T {name}", "body": "B"}
    assert get_spec("app_push").validate(push) == []
    keywords = mt.apply_to_config("template_message", {"template_id": "t1"}, subject="",
                                  content="store: {city}\nwhen: today")
    assert keywords["keywords"] == {"store": "{city}", "when": "today"}
    assert get_spec("template_message").validate(keywords) == []
    assert mt.from_config("template_message", keywords) == ("", "store: {city}\nwhen: today")
    wechat = mt.apply_to_config("wechat_message", {"msg_type": "image", "media_id": "m"}, subject="", content="Hi")
    assert wechat["msg_type"] == "text" and get_spec("wechat_message").validate(wechat) == []
