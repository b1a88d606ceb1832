"""Issue 16: the goal, exit and holdout settings are checked by the activities service with the dialog's words
(event names by the flow editor's rule), saved with the basic information, and a refusal saves nothing."""

import pytest
from sqlmodel import Session

from engine.errors import Invalid, NotFound
from engine.models import ActivityGoal, Role
from engine.services import activities as svc
from engine.services.goal_results import goal_report
from engine.shared.goal_rules import GoalSettings, held_out, read_settings
from tests import factories as f

GOOD = GoalSettings(goal_event=" order_paid ", goal_days=7, exit_on_goal=True, exit_events=["unsubscribe"],
                    exit_attributes=[{"property": "vip", "op": "eq", "value": True}], holdout_pct=10)


def _input(session: Session, owner, activity_id: int, goal: GoalSettings) -> svc.ActivityInput:  # noqa: ANN001
    data = svc.activity_input(session=session, actor=owner, activity_id=activity_id)
    return data.model_copy(update={"goal": goal})


@pytest.mark.parametrize(("goal", "message"), [
    (GoalSettings(goal_event="order paid!"), "Goal event: an event name is letters, digits and _ . : -"),
    (GoalSettings(goal_event="order_paid", goal_days=0), "The goal window is 1 to 7 days"),
    (GoalSettings(goal_event="order_paid", goal_days=8), "The goal window is 1 to 7 days"),
    (GoalSettings(exit_on_goal=True), "Set a goal event to exit customers when they reach it."),
    (GoalSettings(exit_events=["ok", "bad name"]), "Exit event: an event name is letters"),
    (GoalSettings(exit_attributes=[{"property": "vip", "op": "in", "value": 3}]),
     "Exit condition on attributes: 'in' needs a non-empty list of values."),
    (GoalSettings(exit_attributes=[{"op": "eq", "value": 1}]),
     "Exit condition on attributes: property: Field required."),
    (GoalSettings(holdout_pct=51), "The holdout group is 0 to 50 % of the entrants."),
    (GoalSettings(holdout_pct=-1), "The holdout group is 0 to 50 % of the entrants."),
])
def test_bad_settings_are_refused_with_the_dialogs_words_and_nothing_is_saved(session: Session, goal: GoalSettings,
                                                                              message: str) -> None:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.MARKETER)
    activity = f.activity(session, owner)
    svc.save_draft(session=session, actor=owner, activity_id=activity.id,
                   data=_input(session, owner, activity.id, GOOD))
    name = activity.name
    for check in (svc.check_info, svc.save_draft):
        with pytest.raises(Invalid) as err:
            data = _input(session, owner, activity.id, goal).model_copy(update={"name": "Renamed"})
            check(session=session, actor=owner, activity_id=activity.id, data=data)
        assert message in err.value.message
    session.refresh(activity)
    assert activity.name == name  # nothing half-saved
    assert read_settings(session, activity.id).goal_event == "order_paid"


def test_settings_are_saved_read_back_copied_and_kept_by_the_lists_modify(session: Session) -> None:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.MARKETER)
    activity = f.activity(session, owner)
    svc.save_draft(session=session, actor=owner, activity_id=activity.id,
                   data=_input(session, owner, activity.id, GOOD))
    stored = svc.activity_input(session=session, actor=owner, activity_id=activity.id).goal
    assert stored == GOOD.model_copy(update={"goal_event": "order_paid"})
    copy = svc.copy_activity(session=session, actor=owner, activity_id=activity.id)
    assert read_settings(session, copy.id) == stored
    # the list's Modify and New activity dialogs do not show these settings: they leave them as they are
    data = svc.activity_input(session=session, actor=owner, activity_id=activity.id).model_copy(update={"goal": None})
    svc.save_draft(session=session, actor=owner, activity_id=activity.id, data=data)
    assert read_settings(session, activity.id) == stored
    # all off: the row goes
    svc.save_draft(session=session, actor=owner, activity_id=activity.id,
                   data=_input(session, owner, activity.id, GoalSettings()))
    assert session.get(ActivityGoal, activity.id) is None


def test_holdout_is_deterministic_per_customer_and_activity_and_near_its_share() -> None:
    ids = range(1, 20_001)
    first = held_out(7, 10, ids)
    assert first == held_out(7, 10, ids)  # the same customers every time (every round of the activity)
    assert 1_850 <= len(first) <= 2_150  # ≈ 10 % (σ ≈ 42)
    assert held_out(7, 20, ids) >= first  # a larger share keeps the smaller one's customers
    assert held_out(8, 10, ids) != first  # another activity holds out others
    assert held_out(7, 0, ids) == set()


def test_the_goal_report_of_a_private_activity_is_its_creators_and_admins_only(session: Session) -> None:
    ws = f.workspace(session)
    owner, other, admin = (f.user(session, ws, Role.MARKETER), f.user(session, ws, Role.MARKETER),
                           f.user(session, ws, Role.ADMIN))
    activity = f.activity(session, owner)
    svc.save_draft(session=session, actor=owner, activity_id=activity.id,
                   data=_input(session, owner, activity.id, GOOD))
    for reader in (owner, admin):
        report = goal_report(session=session, actor=reader, activity_id=activity.id)
        assert report.settings.goal_event == "order_paid" and report.rounds == []
    with pytest.raises(NotFound):
        goal_report(session=session, actor=other, activity_id=activity.id)
