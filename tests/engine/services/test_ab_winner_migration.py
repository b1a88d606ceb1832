"""Migration 0016_abwinner: the `abdecision` table matches its model, and the migration goes down and up."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from engine import db
from engine.settings import PROJECT_ROOT


def test_migration_0016_matches_the_model_and_goes_down_and_up(database: str) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.downgrade(cfg, "0015_testers")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        assert "abdecision" not in inspect(conn).get_table_names()
    command.upgrade(cfg, "head")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        assert "abdecision" in inspect(conn).get_table_names()
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if "abdecision" in repr(d)] == []
