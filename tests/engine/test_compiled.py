"""engine/compiled.py: a raw read returns what the ORM read returns, with the statement's own literals (an enum
status, a boolean, a LIMIT) bound as the column types bind them — on SQLite and on PostgreSQL."""

import pytest
from sqlalchemy import Text, bindparam, cast, select
from sqlmodel import col

from engine.compiled import Compiled
from engine.models import Activity, ActivityVersion
from engine.status import ActivityStatus
from tests import factories

pytestmark = pytest.mark.postgres

_BY_STATUS = Compiled(select(Activity.id, Activity.name, cast(ActivityVersion.flow, Text))  # type: ignore[call-overload]
                      .join(ActivityVersion, col(ActivityVersion.id) == col(Activity.live_version_id))
                      .where(Activity.workspace_id == bindparam("workspace_id"),
                             Activity.status == ActivityStatus.IN_PROGRESS, col(Activity.is_public).is_(False))
                      .order_by(col(Activity.id)).limit(2))


def test_a_raw_read_matches_the_orm_read(session) -> None:  # noqa: ANN001
    ws = factories.workspace(session)
    owner = factories.user(session, ws)
    running = [factories.activity(session, owner, status=ActivityStatus.IN_PROGRESS, name=f"Run {i}")
               for i in range(3)]
    factories.activity(session, owner, status=ActivityStatus.IN_PROGRESS, name="Public", public=True)
    factories.activity(session, owner, status=ActivityStatus.COMPLETED, name="Not running")
    other = factories.workspace(session)
    factories.activity(session, factories.user(session, other), status=ActivityStatus.IN_PROGRESS)
    session.flush()

    rows = _BY_STATUS.all(session, workspace_id=ws.id)
    expected = session.execute(_BY_STATUS.statement.params(workspace_id=ws.id)).all()
    assert [tuple(r) for r in expected] == rows
    assert [r[0] for r in rows] == [running[0].id, running[1].id]  # the status literal, the boolean, LIMIT 2
    assert rows[0][1] == "Run 0" and '"nodes"' in rows[0][2]  # the flow as its stored JSON text
    assert _BY_STATUS.first(session, workspace_id=other.id + 1000) is None
