"""Re-entry rules in the activities service (issue 16): the default is today's behaviour, N is 1–365 with a clear
message, a refused save leaves nothing half-saved, the rule survives save / modify / copy."""

import pytest
from sqlmodel import Session, func, select

from engine.errors import Invalid
from engine.models import Activity, Role
from engine.services import activities as svc
from engine.services import reentry_rules
from tests import factories as f


@pytest.fixture
def marketer(session: Session):
    return f.user(session, f.workspace(session), Role.MARKETER)


def test_default_is_every_time_without_a_live_run_limit(session: Session, marketer) -> None:
    activity = svc.create_activity(session=session, actor=marketer, data=svc.ActivityInput(name="Plain"))
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    assert (data.reentry, data.reentry_days, data.one_live_run) == ("every_time", None, False)
    assert reentry_rules.describe(activity) == "Every time the trigger fires"


@pytest.mark.parametrize(("mode", "days", "message"), [
    ("after_days", None, "Enter after how many days a customer may enter again (1 to 365)."),
    ("after_days", 0, "Re-entry after N days: N must be between 1 and 365 (0 entered)."),
    ("after_days", 366, "Re-entry after N days: N must be between 1 and 365 (366 entered)."),
    ("twice", None, "Unknown re-entry rule 'twice': choose Every time the trigger fires, Once ever, "
                    "Again after N days."),
])
def test_bad_rules_are_refused_and_nothing_is_saved(session: Session, marketer, mode, days, message) -> None:
    before = session.exec(select(func.count()).select_from(Activity)).one()
    with pytest.raises(Invalid) as refused:
        svc.create_activity(session=session, actor=marketer,
                            data=svc.ActivityInput(name="Bad", reentry=mode, reentry_days=days))
    assert refused.value.message == message
    assert session.exec(select(func.count()).select_from(Activity)).one() == before
    activity = svc.create_activity(session=session, actor=marketer, data=svc.ActivityInput(name="Good"))
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    with pytest.raises(Invalid):  # a save refuses it the same way, and keeps the rule it had
        svc.save_draft(session=session, actor=marketer, activity_id=activity.id,
                       data=data.model_copy(update={"reentry": mode, "reentry_days": days}))
    session.refresh(activity)
    assert (activity.reentry, activity.reentry_days) == ("every_time", None)


@pytest.mark.parametrize("days", [1, 7, 365])
def test_rule_round_trips_through_save_and_copy(session: Session, marketer, days) -> None:
    activity = svc.create_activity(session=session, actor=marketer, data=svc.ActivityInput(
        name="Cart", reentry="after_days", reentry_days=days, one_live_run=True))
    data = svc.activity_input(session=session, actor=marketer, activity_id=activity.id)
    assert (data.reentry, data.reentry_days, data.one_live_run) == ("after_days", days, True)
    assert reentry_rules.describe(activity) == f"Again after {days} days · one live run at a time"
    copy = svc.copy_activity(session=session, actor=marketer, activity_id=activity.id)
    assert (copy.reentry, copy.reentry_days, copy.one_live_run) == ("after_days", days, True)
    # another rule: N is dropped with "again after N days"
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id,
                   data=data.model_copy(update={"reentry": "once", "one_live_run": False}))
    session.refresh(activity)
    assert (activity.reentry, activity.reentry_days, activity.one_live_run) == ("once", None, False)


def test_migration_0016_matches_the_models_and_goes_down_and_up(database: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    from engine import db
    from engine.settings import PROJECT_ROOT

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.downgrade(cfg, "0016_reentry-1")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("activity")}
    assert not {"reentry", "reentry_days", "one_live_run"} & columns
    command.upgrade(cfg, "head")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if any(t in repr(d) for t in ("'reentry'", "reentry_days", "one_live_run"))] == []
