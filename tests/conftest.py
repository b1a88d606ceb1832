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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for this test process (one per xdist worker); yields its URL."""
    import shutil
    import subprocess
    import time

    import redis

    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: scripts/setup.sh installs it (apt-get install redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """REDIS_URL pointing at the real server, emptied for this test."""
    import redis

    from engine.runtime.connection import reset_redis

    monkeypatch.setenv("REDIS_URL", redis_server)
    get_settings.cache_clear()
    reset_redis()
    redis.Redis.from_url(redis_server).flushdb()
    yield redis_server
    reset_redis()
    get_settings.cache_clear()
