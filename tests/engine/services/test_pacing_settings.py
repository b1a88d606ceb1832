"""Send windows and rate limits as the services keep them (issue 16): the dialog's fields checked with clear
messages and nothing half-saved, normalised, carried by Save Draft, copies and the dialog's read-back, removed with
the activity; the workspace's per-channel limits (admins only, all or nothing)."""

import pytest
from sqlmodel import Session, func, select

from engine.errors import Forbidden, Invalid
from engine.models import Activity, ActivityPacing, ChannelRateLimit, Role
from engine.services import activities as svc
from engine.services import pacing
from engine.services.activities import ActivityInput
from engine.services.pacing import PacingInput
from tests import factories as f


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws):
    return f.user(session, ws, Role.MARKETER)


@pytest.mark.parametrize(("given", "message"), [
    (PacingInput(window_start="09:00"), "Enter the send window's end time too (HH:MM), or clear both."),
    (PacingInput(window_end="21:00"), "Enter the send window's start time too (HH:MM), or clear both."),
    (PacingInput(window_start="9am", window_end="21:00"),
     "The send window's start time must be HH:MM (24-hour), e.g. 09:00; “9am” is not."),
    (PacingInput(window_start="09:00", window_end="24:00"),
     "The send window's end time must be HH:MM (24-hour), e.g. 09:00; “24:00” is not."),
    (PacingInput(window_start="09:00", window_end="09:00"),
     "The send window's start and end must differ (an end before the start spans midnight)."),
    (PacingInput(window_start="09:00", window_end="21:00", outside="later"),
     "Outside the send window: choose “wait until it opens” or “skip the touch”."),
    (PacingInput(max_per_minute=0), "The messages per minute must be between 1 and 100,000 (or empty for no limit)."),
    (PacingInput(max_per_minute=100_001),
     "The messages per minute must be between 1 and 100,000 (or empty for no limit)."),
])
def test_bad_pacing_is_refused_with_its_reason_and_nothing_is_saved(session: Session, marketer, given,
                                                                     message) -> None:
    with pytest.raises(Invalid) as err:
        svc.create_activity(session=session, actor=marketer, data=ActivityInput(name="Paced", pacing=given))
    assert err.value.message == message
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0
    assert session.exec(select(func.count()).select_from(ActivityPacing)).one() == 0


def test_pacing_is_saved_normalised_read_back_modified_copied_and_deleted(session: Session, marketer) -> None:
    data = ActivityInput(name="Paced", pacing=PacingInput(window_start="9:00", window_end="21:30", outside="skip",
                                                          max_per_minute=600))
    activity = svc.create_activity(session=session, actor=marketer, data=data)
    read = svc.activity_input(session=session, actor=marketer, activity_id=activity.id).pacing
    assert read == PacingInput(window_start="09:00", window_end="21:30", outside="skip", max_per_minute=600)
    assert pacing.describe(read, channel_limit=100) == \
        "Send window 09:00–21:30 (customer's local time); outside it: skip the touch · at most 100 messages per minute"

    # a form that does not carry pacing (None) leaves it; a bad one refuses the whole save
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, data=ActivityInput(name="Renamed"))
    assert svc.activity_input(session=session, actor=marketer, activity_id=activity.id).pacing == read
    with pytest.raises(Invalid):
        svc.save_draft(session=session, actor=marketer, activity_id=activity.id,
                   data=ActivityInput(name="Bad", pacing=PacingInput(max_per_minute=-1)))
    session.refresh(activity)
    assert activity.name == "Renamed"

    copy = svc.copy_activity(session=session, actor=marketer, activity_id=activity.id)
    assert svc.activity_input(session=session, actor=marketer, activity_id=copy.id).pacing == read

    svc.save_draft(session=session, actor=marketer, activity_id=activity.id,
               data=ActivityInput(name="Renamed", pacing=PacingInput()))  # everything cleared: no row
    assert session.get(ActivityPacing, activity.id) is None
    svc.delete_activity(session=session, actor=marketer, activity_id=copy.id)
    assert session.get(ActivityPacing, copy.id) is None


def test_channel_limits_are_an_admins_all_or_nothing(session: Session, ws, marketer) -> None:
    admin = f.user(session, ws, Role.ADMIN)
    with pytest.raises(Forbidden):
        pacing.channel_limits(session=session, actor=marketer)
    with pytest.raises(Forbidden):
        pacing.save_channel_limits(session=session, actor=marketer, limits={"email": "10"})
    with pytest.raises(Invalid) as err:
        pacing.save_channel_limits(session=session, actor=admin, limits={"email": "10", "text_sms": "ten"})
    assert err.value.message == "The Text SMS limit must be a whole number (1 to 100,000), or empty for no limit."
    assert session.exec(select(func.count()).select_from(ChannelRateLimit)).one() == 0
    shown = pacing.save_channel_limits(session=session, actor=admin, limits={"email": "1,000", "text_sms": "60"})
    assert {c.channel: c.max_per_minute for c in shown if c.max_per_minute} == {"email": 1000, "text_sms": 60}
    assert {c.channel for c in shown} >= {"email", "text_sms", "app_push", "webhook"}
    shown = pacing.save_channel_limits(session=session, actor=admin, limits={"email": ""})
    assert {c.channel: c.max_per_minute for c in shown if c.max_per_minute} == {"text_sms": 60}
