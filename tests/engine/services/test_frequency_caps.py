"""Settings → Frequency caps (issue 16): admins only; positive whole numbers within limits, a known channel, no
duplicate (channel, window), at most RULES_MAX rules — refused with the field named, nothing saved; another
workspace's rule is not found; an activity's transactional exemption is kept by create, Save Draft and Copy."""

import pytest
from sqlmodel import Session, func, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, Role, User, Workspace
from engine.models.frequency_cap import ANY_CHANNEL, FrequencyCap
from engine.services import activities as acts
from engine.services import frequency_caps as svc
from engine.services.activities import ActivityInput
from tests import factories as f


@pytest.fixture
def admin(session: Session) -> User:
    return f.user(session, f.workspace(session), Role.ADMIN, name="boss")


def _count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(FrequencyCap)).one())


@pytest.mark.parametrize("role", [Role.MARKETER, Role.MANAGER, Role.REVIEWER])
def test_only_admins_manage_caps(session: Session, admin: User, role: Role) -> None:
    rule = svc.create_cap(session=session, actor=admin, channel="text_sms", max_messages=3, window_days=7)
    other = f.user(session, session.get(Workspace, admin.workspace_id), role)
    for call in (lambda: svc.list_caps(session=session, actor=other),
                 lambda: svc.create_cap(session=session, actor=other, channel="email", max_messages=1, window_days=1),
                 lambda: svc.update_cap(session=session, actor=other, cap_id=rule.id, channel="email",
                                        max_messages=1, window_days=1),
                 lambda: svc.delete_cap(session=session, actor=other, cap_id=rule.id)):
        with pytest.raises(Forbidden, match="Only an admin"):
            call()
    assert [(r.channel, r.max_messages, r.window_days) for r in svc.list_caps(session=session, actor=admin)] == [
        ("text_sms", 3, 7)]


def test_create_edit_delete(session: Session, admin: User) -> None:
    sms = svc.create_cap(session=session, actor=admin, channel="text_sms", max_messages="3", window_days=" 7 ")
    anything = svc.create_cap(session=session, actor=admin, channel=ANY_CHANNEL, max_messages=5, window_days=7)
    assert sms.text == "at most 3 Text SMS per customer in 7 days"
    assert anything.text == "at most 5 messages of any channel per customer in 7 days"
    assert anything.channel_label == "Any channel"
    edited = svc.update_cap(session=session, actor=admin, cap_id=sms.id, channel="text_sms", max_messages=1,
                            window_days=1)
    assert edited.text == "at most 1 Text SMS per customer in 1 day"
    svc.delete_cap(session=session, actor=admin, cap_id=anything.id)
    assert [r.id for r in svc.list_caps(session=session, actor=admin)] == [sms.id]


@pytest.mark.parametrize(("channel", "most", "days", "message"), [
    ("text_sms", "0", "7", "Maximum messages: enter a whole number from 1 to 1000."),
    ("text_sms", "-2", "7", "Maximum messages: enter a whole number from 1 to 1000."),
    ("text_sms", "2.5", "7", "Maximum messages: enter a whole number from 1 to 1000."),
    ("text_sms", "1001", "7", "Maximum messages: enter a whole number from 1 to 1000."),
    ("text_sms", "", "7", "Maximum messages: enter a whole number from 1 to 1000."),
    ("text_sms", "3", "0", "Window: enter a whole number from 1 to 90."),
    ("text_sms", "3", "91", "Window: enter a whole number from 1 to 90."),
    ("text_sms", "3", "seven", "Window: enter a whole number from 1 to 90."),
    ("webhook", "3", "7", 'Channel: "webhook" is not a channel a frequency cap can limit'),
    ("", "3", "7", 'Channel: "" is not a channel'),
])
def test_bad_input_is_refused_and_nothing_saved(session: Session, admin: User, channel: str, most: str, days: str,
                                                message: str) -> None:
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        svc.create_cap(session=session, actor=admin, channel=channel, max_messages=most, window_days=days)
    assert _count(session) == 0
    rule = svc.create_cap(session=session, actor=admin, channel="email", max_messages=2, window_days=3)
    with pytest.raises(Invalid):
        svc.update_cap(session=session, actor=admin, cap_id=rule.id, channel=channel, max_messages=most,
                       window_days=days)
    stored = session.get(FrequencyCap, rule.id)
    assert stored is not None and (stored.channel, stored.max_messages, stored.window_days) == ("email", 2, 3)


def test_one_rule_per_channel_and_window_and_a_limit_on_rules(session: Session, admin: User) -> None:
    rule = svc.create_cap(session=session, actor=admin, channel="text_sms", max_messages=3, window_days=7)
    with pytest.raises(Conflict, match="A rule for text sms over 7 days exists already"):
        svc.create_cap(session=session, actor=admin, channel="text_sms", max_messages=5, window_days=7)
    svc.update_cap(session=session, actor=admin, cap_id=rule.id, channel="text_sms", max_messages=4, window_days=7)
    for days in range(1, svc.RULES_MAX):
        svc.create_cap(session=session, actor=admin, channel=ANY_CHANNEL, max_messages=5, window_days=days)
    with pytest.raises(Conflict, match=f"at most {svc.RULES_MAX} frequency caps"):
        svc.create_cap(session=session, actor=admin, channel="email", max_messages=1, window_days=1)
    assert _count(session) == svc.RULES_MAX


def test_another_workspace_rule_is_not_found(session: Session, admin: User) -> None:
    rule = svc.create_cap(session=session, actor=admin, channel="text_sms", max_messages=3, window_days=7)
    stranger = f.user(session, f.workspace(session), Role.ADMIN)
    assert svc.list_caps(session=session, actor=stranger) == []
    with pytest.raises(NotFound):
        svc.update_cap(session=session, actor=stranger, cap_id=rule.id, channel="email", max_messages=1,
                       window_days=1)
    with pytest.raises(NotFound):
        svc.delete_cap(session=session, actor=stranger, cap_id=rule.id)


def test_the_transactional_exemption_is_kept_by_create_save_and_copy(session: Session, admin: User) -> None:
    marketer = f.user(session, session.get(Workspace, admin.workspace_id), Role.MARKETER)
    activity = acts.create_activity(session=session, actor=marketer,
                                    data=ActivityInput(name="Order confirmation", cap_exempt=True))
    assert activity.cap_exempt is True
    data = acts.activity_input(session=session, actor=marketer, activity_id=int(activity.id))
    assert data.cap_exempt is True
    copy = acts.copy_activity(session=session, actor=marketer, activity_id=int(activity.id))
    assert session.get(Activity, copy.id).cap_exempt is True  # type: ignore[union-attr]
    plain = acts.create_activity(session=session, actor=marketer, data=ActivityInput(name="Promo"))
    assert plain.cap_exempt is False
    modified = acts.save_draft(session=session, actor=marketer, activity_id=int(activity.id),
                               data=data.model_copy(update={"cap_exempt": False}))
    assert modified.cap_exempt is False
