"""Migration 0011 moves the plain secrets of stored versions into encrypted `secretvalue` rows (one row per
activity, component and field, shared by the versions that held the same value) and back on downgrade."""

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from engine import db
from engine import secrets as engine_secrets
from engine.components.secret import SecretRef
from engine.db import read_session, write_session
from engine.models import Role
from engine.settings import PROJECT_ROOT
from engine.status import ActivityStatus
from tests.engine.services.test_secrets import API_KEY, SIGNING, TOKEN, leaks, webhook_flow


def _alembic(revision: str, *, down: bool = False) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    (command.downgrade if down else command.upgrade)(cfg, revision)
    db.reset_engine()


def _flows() -> dict[int, dict]:
    with read_session() as session:
        rows = session.execute(text("SELECT id, flow FROM activityversion ORDER BY id")).all()
    return {int(i): json.loads(flow) if isinstance(flow, str) else flow for i, flow in rows}


def _old_activity(session, owner, flow: dict, status: ActivityStatus = ActivityStatus.DRAFT) -> int:
    """An activity with version 1 written in SQL, as the schema of 0010 has them (today's model has columns that
    later migrations add, so the factory cannot write into a downgraded database)."""
    activity_id = session.execute(text(
        "INSERT INTO activity (workspace_id, name, description, owner_id, is_public, status, schedule, "
        "schedule_every, runs_used, created_at, updated_at) VALUES (:w, 'Old', '', :u, false, :s, 'once', 1, 0, "
        "'2026-12-01 09:00:00', '2026-12-01 09:00:00') RETURNING id"),
        {"w": owner.workspace_id, "u": owner.id, "s": status.value}).scalar_one()
    version_id = session.execute(text(
        "INSERT INTO activityversion (activity_id, number, state, flow, author_id, created_at) VALUES "
        "(:a, 1, 'published', :flow, :u, '2026-12-01 09:00:00') RETURNING id"),
        {"a": activity_id, "flow": json.dumps(flow), "u": owner.id}).scalar_one()
    session.execute(text("UPDATE activity SET current_version_id = :v WHERE id = :a"),
                    {"v": version_id, "a": activity_id})
    return int(activity_id)


class _Owner:
    """The workspace and marketer written in SQL with 0010's columns (the models have later columns)."""

    def __init__(self, session) -> None:
        self.workspace_id = session.execute(text(
            "INSERT INTO workspace (name, in_progress_cap, time_zone, created_at) VALUES "
            "('ws-old', 100, 'UTC', '2026-12-01 09:00:00') RETURNING id")).scalar_one()
        self.id = session.execute(text(
            "INSERT INTO \"user\" (workspace_id, username, display_name, password_hash, role, created_at) VALUES "
            "(:w, 'old-marketer', 'Old Marketer', 'x', :r, '2026-12-01 09:00:00') RETURNING id"),
            {"w": self.workspace_id, "r": Role.MARKETER.value}).scalar_one()


def test_plain_secrets_of_stored_versions_move_out_encrypted_and_back(database: str) -> None:
    _alembic("0010_workspace_tz", down=True)
    with write_session() as session:  # versions as today's code stores them: the values inside the flow
        owner = _Owner(session)
        a_id = _old_activity(session, owner, webhook_flow(), ActivityStatus.IN_PROGRESS)
        session.execute(text("INSERT INTO activityversion (activity_id, number, state, flow, author_id, created_at)"
                             " VALUES (:a, 2, 'draft', :flow, :u, '2026-12-01 10:00:00')"),
                        {"a": a_id, "flow": json.dumps(webhook_flow()), "u": owner.id})
        b_id = _old_activity(session, owner, webhook_flow(secret="", auth="Bearer other-9"))
    before = _flows()
    assert leaks(before)

    _alembic("head")
    after = _flows()
    assert leaks(after) == [] and "Bearer other-9" not in json.dumps(after)
    with read_session() as session:
        rows = session.execute(text("SELECT id, activity_id, node_id, field, ciphertext FROM secretvalue")).all()
    values = {(r.activity_id, r.field): engine_secrets.decrypt(r.ciphertext) for r in rows}
    assert values == {(a_id, "secret"): SIGNING, (a_id, "headers.Authorization"): TOKEN,
                      (a_id, "headers.X-Api-Key"): API_KEY, (b_id, "headers.Authorization"): "Bearer other-9",
                      (b_id, "headers.X-Api-Key"): API_KEY}
    assert all(r.node_id == "n2" and r.field.encode() and SIGNING.encode() not in r.ciphertext for r in rows)
    a1, a2, b1 = (after[v]["nodes"][1]["config"] for v in sorted(after))  # ids: a V1, a V2, b V1
    assert a1["secret"] == a2["secret"] and a1["secret"]["$secret"]  # two versions of one activity share a row
    assert a1["headers"]["X-Api-Key"] != b1["headers"]["X-Api-Key"]  # the same value in two activities: two rows
    assert b1["secret"] == "" and b1["headers"]["X-Source"] == "qa"  # nothing to move stays as it was
    engine_secrets.reset()
    assert engine_secrets.reveal(SecretRef(id=a1["secret"]["$secret"])) == SIGNING  # the channel reads it

    _alembic("0010_workspace_tz", down=True)
    assert _flows() == before
    _alembic("head")
