"""Migration 0014_settings: the workspace's one API key moves into `apikey` (and back on downgrade); users gain
`active` (existing users stay active) and `last_login_at`; the migrated tables match the models."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from engine import db
from engine.db import read_session, write_session
from engine.services.api_keys import hash_key, workspace_for_key
from engine.settings import PROJECT_ROOT

OLD_KEY = "amk_the_old_workspace_key_0123"


def _alembic(revision: str, *, down: bool = False) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    (command.downgrade if down else command.upgrade)(cfg, revision)
    db.reset_engine()


def test_the_workspace_key_moves_into_apikey_and_back(database: str) -> None:
    _alembic("0013_approval", down=True)
    with write_session() as s:
        s.execute(text("INSERT INTO workspace (name, in_progress_cap, api_key_hash, created_at) VALUES "
                       "('keyed', 100, :h, '2026-12-01 09:00:00'), ('keyless', 100, NULL, '2026-12-01 09:00:00')"),
                  {"h": hash_key(OLD_KEY)})
        keyed = s.execute(text("SELECT id FROM workspace WHERE name = 'keyed'")).scalar_one()
        s.execute(text("INSERT INTO \"user\" (workspace_id, username, display_name, password_hash, role, created_at)"
                       " VALUES (:w, 'old', 'Old', 'x', 'admin', '2026-12-01 09:00:00')"), {"w": keyed})

    _alembic("head")
    with read_session() as s:
        rows = s.execute(text("SELECT workspace_id, name, prefix, created_by, revoked_at FROM apikey")).all()
        assert [tuple(r) for r in rows] == [(keyed, "Workspace key", "", None, None)]
        assert workspace_for_key(session=s, key=OLD_KEY) == keyed  # the same key keeps working
        assert tuple(s.execute(text('SELECT active, last_login_at FROM "user"')).one()) in ((1, None), (True, None))

    _alembic("0013_approval", down=True)
    with read_session() as s:
        hashes = dict(s.execute(text("SELECT name, api_key_hash FROM workspace")).all())
    assert hashes == {"keyed": hash_key(OLD_KEY), "keyless": None}
    _alembic("head")


def test_the_migrated_schema_matches_the_models(database: str) -> None:
    with db.get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in ("apikey", "api_key", "last_login_at", "'active'"))]
    assert ours == []
