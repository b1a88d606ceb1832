"""Shared fixtures: a fresh migrated SQLite file per test (the real DB engine, not a mock)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from engine import clock, db
from engine.settings import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point DATABASE_URL at a new SQLite file and apply the Alembic migrations to it."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engine()
    from engine.migrate import upgrade_to_head

    upgrade_to_head()
    yield url
    db.reset_engine()
    get_settings.cache_clear()
    clock.set_clock(None)


@pytest.fixture
def session(database: str) -> Iterator[Session]:
    with db.write_session() as s:
        yield s
