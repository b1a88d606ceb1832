"""The tests' databases, cut from migrated templates: Alembic runs once per migration state (not once per test).
A SQLite test gets a page copy of a template file this process migrated (0.2–0.35 s of Alembic per test before:
a third of the suite's time); a PostgreSQL test gets `CREATE DATABASE ... TEMPLATE`, a file copy of a few
milliseconds. Each copy gets its own database identity (migration 0006 writes one uuid per database): Redis's
binding tells two databases apart by it.

The server is TEST_POSTGRES_URL (scripts/test.sh starts a throwaway cluster, scripts/pg.sh, and sets it). The
template's name carries a digest of the migrations and models, so a changed or added migration builds a new one;
xdist workers build it once between them, under an advisory lock.
"""

import atexit
import hashlib
import itertools
import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from engine import db
from engine.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
_LOCK_KEY = 5_050_505  # pg_advisory_lock key of the template build
AHEAD, MAKERS = 3, 2  # PostgreSQL databases each test process keeps made ahead, and the threads making them
_names = itertools.count(1)


def use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `url` this process's DATABASE_URL (subprocesses started with os.environ inherit it)."""
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engine()


def migrate_to_head(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.migrate import upgrade_to_head

    use_database(url, monkeypatch)
    upgrade_to_head()
    db.reset_engine()


def copy_sqlite_template(template: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`target` becomes a migrated database: `template` (migrated here the first time) copied page by page with
    SQLite's backup API (right whatever the template's WAL holds), then given a new identity."""
    if not template.exists():
        building = template.with_name(template.name + ".build")
        building.unlink(missing_ok=True)
        migrate_to_head(f"sqlite:///{building}", monkeypatch)
        building.rename(template)
    with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
        copy.execute("UPDATE databaseidentity SET uuid = ? WHERE id = 1", (str(uuid.uuid4()),))
    source.close()
    copy.close()


def schema_digest() -> str:
    """A digest of what decides the schema: every migration, Alembic's env and the models."""
    sha = hashlib.sha256()
    files = sorted([*ROOT.glob("alembic/versions/*.py"), ROOT / "alembic/env.py", *ROOT.glob("engine/models/*.py")])
    for path in files:
        sha.update(path.relative_to(ROOT).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:12]


class PostgresDatabases:
    """Creates and drops the per-test databases on one server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._template: str | None = None
        self._ahead: queue.Queue[str | BaseException] | None = None
        self._failure: BaseException | None = None

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def template(self, migrate: Callable[[str], None]) -> str:
        """The migrated template's name; `migrate(url)` brings an empty database to Alembic's head."""
        if self._template is None:
            name = f"am_template_{schema_digest()}"
            with self.admin.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
                try:
                    exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                    if not exists:
                        building = f"{name}_build"
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                        conn.execute(text(f'CREATE DATABASE "{building}"'))
                        migrate(self.url_of(building))
                        conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
                        # nobody may connect to it: CREATE DATABASE ... TEMPLATE needs it idle
                        conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'))
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            self._template = name
        return self._template

    def create(self, migrate: Callable[[str], None]) -> str:
        """A new database with the template's schema; returns its URL. Made ahead by a thread of this process
        (CREATE DATABASE ... TEMPLATE waits on a checkpoint: 0.1 s alone, 0.25–0.35 s on a busy run, which was a
        sixth of the suite), so a test usually takes one that is ready."""
        template = self.template(migrate)
        if self._ahead is None:
            self._ahead = queue.Queue(maxsize=AHEAD)
            for _ in range(MAKERS):
                threading.Thread(target=self._make_ahead, args=(template,), daemon=True, name="pg-ahead").start()
            atexit.register(self._drop_unused)
        if self._failure is not None:  # a maker met an error: every later test says so at once, not after 120 s
            raise self._failure
        made = self._ahead.get(timeout=120)
        if isinstance(made, BaseException):
            raise made
        return made

    def _make_ahead(self, template: str) -> None:
        while True:
            name = f"am_test_{os.getpid()}_{next(_names)}"
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # an earlier run's leftover
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
            except Exception as err:  # noqa: BLE001 — the tests that wait for it fail with the server's words
                self._failure = err
                self._ahead.put(err)  # type: ignore[union-attr]
                return
            self._ahead.put(self.url_of(name))  # type: ignore[union-attr]

    def _drop_unused(self) -> None:
        """At exit: the databases made ahead that no test took (the throwaway cluster goes anyway; a server of
        the developer's own, TEST_POSTGRES_URL, keeps none)."""
        while self._ahead is not None and not self._ahead.empty():
            made = self._ahead.get_nowait()
            if isinstance(made, str):
                self.drop(made)

    def drop(self, url: str) -> None:
        """Drop a test's database, ending what is still connected to it (a killed worker's sessions)."""
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@lru_cache
def postgres_databases(url: str) -> PostgresDatabases:
    return PostgresDatabases(url)
