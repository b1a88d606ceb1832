"""Content moderation: the workspace's banned-word list (admins edit, everyone reads), the SMS length and segment
rules, and Publish refusing a flow whose touch content fails moderation, with the reason on the component (the
validator the canvas and Publish share), on the real migrated database."""

import pytest
from sqlmodel import Session, select

from engine.errors import Forbidden, Invalid
from engine.flow.moderation import SMS_MAX_UNITS, moderate, segment_label, sms_segments
from engine.flow.validate import FlowProblem, validate_flow
from engine.models import Activity, ActivityVersion, Role
from engine.models.moderation import BannedWord
from engine.services import activities as svc
from engine.services import moderation
from engine.services.canvas import canvas_view
from engine.status import ActivityStatus
from tests import factories as f
from tests.factories import valid_flow


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


def sms_flow(content: str, signature: str = "") -> dict:
    flow = valid_flow()
    flow["nodes"][1]["config"] = {"content": content, "signature": signature}
    return flow


def test_only_an_admin_replaces_the_list_everyone_reads_it(session: Session, ws) -> None:
    admin, marketer, manager = (f.user(session, ws, r) for r in (Role.ADMIN, Role.MARKETER, Role.MANAGER))
    typed = ["  free   money ", "Casino", "casino", "", "赌博"]
    saved = moderation.set_words(session=session, actor=admin, words=typed)
    assert saved == ["free money", "Casino", "赌博"]  # trimmed, blank and case-insensitive duplicates dropped
    for user in (marketer, manager):
        with pytest.raises(Forbidden, match="Only an admin"):
            moderation.set_words(session=session, actor=user, words=[])
        shown = moderation.word_list(session=session, actor=user)
        assert shown.words == saved and not shown.can_edit and shown.why_not == moderation.ADMIN_ONLY
    assert moderation.word_list(session=session, actor=admin).can_edit
    assert moderation.set_words(session=session, actor=admin, words=["lottery"]) == ["lottery"]  # replaces
    assert moderation.banned_words(session, ws.id) == ["lottery"]
    other = f.workspace(session)
    assert moderation.banned_words(session, other.id) == []  # per workspace
    with pytest.raises(Invalid, match="at most 40"):
        moderation.set_words(session=session, actor=admin, words=["x" * 41])
    with pytest.raises(Invalid, match="at most 500 words"):
        moderation.set_words(session=session, actor=admin, words=[f"w{i}" for i in range(501)])
    assert session.exec(select(BannedWord.word)).all() == ["lottery"]


@pytest.mark.parametrize(("text", "units", "parts"), [
    ("a" * 160, 160, 1), ("a" * 161, 161, 2), ("a" * 306, 306, 2), ("a" * 307, 307, 3),  # GSM-7: 160 / 153
    ("€" * 80, 160, 1), ("€" * 81, 162, 2),  # an extension character takes two units
    ("好" * 70, 70, 1), ("好" * 71, 71, 2), ("好" * 134, 134, 2), ("好" * 135, 135, 3),  # UCS-2: 70 / 67
    ("a" * 69 + "好", 70, 1), ("a" * 70 + "好", 71, 2),  # one non-Latin character makes it all UCS-2
])
def test_sms_segments(text: str, units: int, parts: int) -> None:
    assert sms_segments(text) == (units, parts)


def test_segment_label_and_length_rule() -> None:
    assert segment_label("a" * 161) == "2 SMS segments (161 GSM characters)"
    assert segment_label("好" * 71) == "2 SMS segments (71 Unicode characters)"
    assert moderate("text_sms", {"content": "x" * SMS_MAX_UNITS}, []) == []
    # the signature's 【】 are not GSM-7: the whole SMS goes as UCS-2 (67 per part)
    [reason] = moderate("text_sms", {"content": "x" * (SMS_MAX_UNITS - 3), "signature": "Shop"}, [])
    assert reason == f"the SMS is {SMS_MAX_UNITS + 3} characters with its signature (8 segments); at most " \
                     f"{SMS_MAX_UNITS} can be sent"


def test_banned_words_fail_every_touch_channel_not_data_push() -> None:
    words = ["casino", "赌博"]
    assert moderate("text_sms", {"content": "Win at the CASINO"}, words) == ["contains banned word “casino”"]
    assert moderate("text_sms", {"content": "ok", "signature": "赌博"}, words) == ["contains banned word “赌博”"]
    assert moderate("app_push", {"title": "Casino night", "body": "去赌博"}, words) == \
        ["contains banned words “casino”, “赌博”"]
    assert moderate("email", {"subject": "hello"}, words) == []
    flow = valid_flow()
    flow["nodes"][1] = {"id": "n2", "type": "webhook", "config": {"url": "https://crm.example/casino"},
                        "position": {"x": 0, "y": 0}}
    assert not any("moderation" in p.message for p in validate_flow(flow, words))  # data push: not moderated


def test_the_validator_names_the_component() -> None:
    assert validate_flow(sms_flow("Hi {name}, try our casino"), []) == []  # no list: nothing banned
    assert validate_flow(sms_flow("Hi {name}, try our casino"), ["Casino"]) == [
        FlowProblem("n2", "Text SMS fails moderation: contains banned word “Casino”.")]
    [problem] = validate_flow(sms_flow("好" * 499, signature="店"))
    assert problem.node_id == "n2" and "502 characters" in problem.message and "8 segments" in problem.message


def test_publish_refuses_content_that_fails_moderation_and_saves_nothing(session: Session, ws) -> None:
    admin, marketer = f.user(session, ws, Role.ADMIN), f.user(session, ws, Role.MARKETER)
    moderation.set_words(session=session, actor=admin, words=["casino"])
    activity = f.activity(session, marketer, status=ActivityStatus.DRAFT, flow=sms_flow("Hi"))
    flow = sms_flow("Big CASINO night")
    with pytest.raises(Invalid, match="Text SMS fails moderation: contains banned word “casino”"), \
            session.begin_nested():
        svc.publish(session=session, actor=marketer, activity_id=activity.id, flow=flow)
    session.expire_all()
    assert session.get(Activity, activity.id).status == ActivityStatus.DRAFT
    # the canvas is given the same list, so its problem list names the component before Publish is asked
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert view.banned_words == ["casino"]
    assert [p.node_id for p in validate_flow(flow, view.banned_words)] == ["n2"]
    moderation.set_words(session=session, actor=admin, words=[])
    published = svc.publish(session=session, actor=marketer, activity_id=activity.id, flow=flow)
    assert published.status == ActivityStatus.IN_PROGRESS
    assert session.exec(select(ActivityVersion).where(ActivityVersion.activity_id == activity.id,
                                                      ActivityVersion.state == "published")).first()
