"""Shared fixtures: a fresh migrated database per test (the real DB engine, not a mock) — a SQLite file, and
for the engine's integration tests also a PostgreSQL database when TEST_POSTGRES_URL names a server
(scripts/test.sh starts one: scripts/pg.sh)."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session

from engine import clock, db, outbound
from engine import secrets as engine_secrets
from engine.settings import get_settings
from tests.databases import copy_sqlite_template, migrate_to_head, postgres_databases, schema_digest, use_database

if TYPE_CHECKING:
    from tests.redis_process import RedisProcess

#: Tests under these folders that use `database` run twice when TEST_POSTGRES_URL is set: [sqlite] and
#: [postgresql]. Elsewhere a test opts in with @pytest.mark.postgres; @pytest.mark.sqlite_only opts out.
POSTGRES_PATHS = ("tests/engine/runtime/", "tests/engine/services/", "tests/engine/api/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not os.environ.get("TEST_POSTGRES_URL") or "database" not in metafunc.fixturenames:
        return
    node = metafunc.definition
    if node.get_closest_marker("sqlite_only"):
        return
    where = Path(node.path).resolve().relative_to(metafunc.config.rootpath).as_posix()
    if where.startswith(POSTGRES_PATHS) or node.get_closest_marker("postgres"):
        metafunc.parametrize("database", ["sqlite", "postgresql"], indirect=True)


#: the receipt token every test process uses (the API requires one; the simulator sends it)
RECEIPT_TOKEN = "test-receipt-token"


@pytest.fixture(autouse=True)
def _outbound_and_receipts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no outbound allow-list (a test allow-lists its own loopback sinks:
    tests/engine/channels/helpers.py `allow_outbound`) and a known receipt token (no token file written)."""
    monkeypatch.delenv("OUTBOUND_ALLOW", raising=False)
    monkeypatch.setenv("RECEIPT_CALLBACK_TOKEN", RECEIPT_TOKEN)
    get_settings.cache_clear()
    outbound.stored.invalidate()  # no allow-list entries cached from another test's database
    yield
    get_settings.cache_clear()
    outbound.stored.invalidate()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this test process keeps its migrated SQLite template (tests/databases.py: copy_sqlite_template)."""
    return tmp_path_factory.mktemp("sqlite-template") / f"{schema_digest()}.db"


@pytest.fixture
def make_database(tmp_path: Path, sqlite_template: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """A factory of fresh databases migrated to Alembic's head, `make("sqlite")` or `make("postgresql")`; each
    becomes DATABASE_URL when made (tests that compare two runs make a second one and switch back with
    tests.databases.use_database). PostgreSQL databases are dropped at the end."""
    drops: list[Callable[[], None]] = []
    made = 0
    # component secrets are encrypted with a key generated at first start, here into this test's own folder
    monkeypatch.setenv("SECRETS_KEY_FILE", str(tmp_path / "secrets.key"))
    monkeypatch.delenv("SECRETS_KEY", raising=False)
    engine_secrets.reset()

    def make(kind: str = "sqlite") -> str:
        nonlocal made
        made += 1
        if kind == "postgresql":
            pg = postgres_databases(os.environ["TEST_POSTGRES_URL"])
            url = pg.create(lambda template: migrate_to_head(template, monkeypatch))
            drops.append(lambda: pg.drop(url))
        else:
            path = tmp_path / ("test.db" if made == 1 else f"test-{made}.db")
            copy_sqlite_template(sqlite_template, path, monkeypatch)
            url = f"sqlite:///{path}"
        use_database(url, monkeypatch)
        return url

    yield make
    engine_secrets.reset()
    db.reset_engine()
    get_settings.cache_clear()
    clock.set_clock(None)
    for drop in drops:
        drop()


@pytest.fixture
def database(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    """DATABASE_URL pointing at a fresh migrated database: a SQLite file, or with the `postgresql` parameter
    (see pytest_generate_tests) a PostgreSQL database cut from a migrated template (tests/databases.py)."""
    return make_database(getattr(request, "param", "sqlite"))


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
def persistent_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["RedisProcess"]:
    """A redis-server of this test's own, run as the run command runs it (append-only file, fsync every second:
    scripts/redis.sh), as REDIS_URL; the test may stop, SIGKILL, wipe and restart it (tests/redis_process.py).
    The shared `redis_server` runs without persistence: it is emptied before every test anyway."""
    from engine.runtime.connection import reset_redis
    from tests.redis_process import RedisProcess

    server = RedisProcess(tmp_path / "redis", _free_port()).start()
    monkeypatch.setenv("REDIS_URL", server.url)
    get_settings.cache_clear()
    reset_redis()
    yield server
    server.kill()
    reset_redis()
    get_settings.cache_clear()


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
