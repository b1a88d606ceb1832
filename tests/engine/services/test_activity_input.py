"""activity_input: what the canvas's pencil edits, read back as the creation dialog set it (and saved again)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from engine.errors import NotFound
from engine.models import Role
from engine.services import activities as svc
from tests import factories as f


def test_activity_input_round_trips_through_save_draft(session: Session) -> None:
    ws = f.workspace(session)
    marketer = f.user(session, ws, Role.MARKETER)
    sub = f.campaign(session, ws, "Member Day SMS", f.campaign(session, ws, "Member Day"))
    start = datetime(2031, 5, 1, 9, 30, tzinfo=UTC)
    activity = svc.create_activity(session=session, actor=marketer, data=svc.ActivityInput(
        name="Spring", description="d", campaign_ids=[sub.id], start_time=start))
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    assert (data.name, data.description, data.campaign_ids) == ("Spring", "d", [sub.id])
    assert data.start_time is not None and data.start_time.replace(tzinfo=UTC) == start
    renamed = data.model_copy(update={"name": "Spring, renamed", "campaign_ids": []})
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, data=renamed)
    again = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    assert (again.name, again.campaign_ids) == ("Spring, renamed", [])

    other = f.user(session, ws, Role.MARKETER)
    with pytest.raises(NotFound):  # a private activity of someone else is not revealed
        svc.activity_input(session=session, actor=other, activity_id=activity.id)
