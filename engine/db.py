"""Database engine and sessions.

SQLite (the default) gets WAL, foreign keys and a busy timeout; services that must serialise a check-then-write
(the in-progress cap) open a `write_session`, which on SQLite begins with BEGIN IMMEDIATE and on other
databases locks the workspace row, so the rule holds under concurrent publishes from many processes.

SQLite has one writer. A connection that finds it busy sleeps inside SQLite in growing steps (up to 100 ms)
even after it is free, so every `write_session` on SQLite first takes its turn in a queue: the threads of a
process on a lock, the processes (workers, API, scheduler, web) on a kernel file lock next to the database,
which wakes the next one at once. The turn ends with the commit or rollback, before after-commit hooks run
(they may talk to Redis; the next writer need not wait for that).
"""

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, select
from sqlalchemy.orm import Session as OrmSession  # what the flush listeners get: sqlmodel's Session is one
from sqlmodel import Session, col

from engine.models import Workspace
from engine.settings import get_settings

log = logging.getLogger(__name__)


def _prepare_sqlite(engine: Engine, url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is broken)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _prepare_sqlite(engine, url)
        return engine
    if make_url(url).get_driver_name() == "psycopg":
        # No server-side prepared statements: once psycopg prepares a statement (its 6th run), PostgreSQL may
        # plan it generically, and an IN list of bound values is then searched linearly instead of hashed —
        # chunked look-ups by QAID turned a 100k-row audience import quadratic (minutes instead of seconds).
        return create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    return create_engine(url, pool_pre_ping=True)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


_DATABASE_CACHES: list[Callable[[], None]] = []


def forget_with_engine(clear: Callable[[], None]) -> Callable[[], None]:
    """Register a cache of rows read from the database (keyed by ids that another database reuses): it is
    cleared with the engine. Returns `clear`, so a module can write `forget = forget_with_engine(_CACHE.clear)`."""
    _DATABASE_CACHES.append(clear)
    return clear


def reset_engine() -> None:
    """Forget the cached engine and what was cached from its database (tests that point DATABASE_URL
    elsewhere)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    for clear in _DATABASE_CACHES:
        clear()


@contextmanager
def read_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


class _WriterTurn:
    """Writers take turns on SQLite: a re-entrant lock per process (a write inside a write of the same thread
    passes), and the first turn of a thread takes a kernel `flock` shared by every process on the file."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.fds: dict[tuple[int, str], int] = {}  # (pid, lock path) → descriptor (a forked child opens its own)

    def acquire(self, path: str) -> None:
        self.lock.acquire()
        self.depth += 1
        if self.depth == 1:
            key = (os.getpid(), path)
            fd = self.fds.get(key)
            if fd is None:
                fd = self.fds[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)

    def release(self, path: str) -> None:
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.fds[(os.getpid(), path)], fcntl.LOCK_UN)
        self.lock.release()


_TURN = _WriterTurn()


def writer_lock_path() -> str | None:
    """The file SQLite writers queue on (None on other databases: rows lock, writers run side by side)."""
    url = get_settings().database_url
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" else f"{path}-writer.lock"


@contextmanager
def write_session() -> Iterator[Session]:
    """A session whose transaction holds the database's write lock from its first statement (SQLite).

    Commits on success, rolls back on any exception, so a refused action leaves nothing half-saved.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        session.info["writes"] = True  # what it writes is committed (engine/services/api_keys.py asks)
        path = writer_lock_path() if session.get_bind().dialect.name == "sqlite" else None
        held = False
        if path is not None:
            _TURN.acquire(path)
            held = True

            def end_turn(*_args: object) -> None:  # first of the session's commit/rollback listeners
                nonlocal held
                if held:
                    held = False
                    _TURN.release(path)

            event.listen(session, "after_commit", end_turn, insert=True)
            event.listen(session, "after_rollback", end_turn, insert=True)
        try:
            if path is not None:
                session.connection(execution_options={"sqlite_immediate": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if held and path is not None:  # neither listener ran (e.g. the connection could not be opened)
                held = False
                _TURN.release(path)


def lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialise workspace-wide rules (the in-progress cap) across processes."""
    if session.get_bind().dialect.name != "sqlite":  # SQLite already holds the lock (BEGIN IMMEDIATE)
        session.execute(select(col(Workspace.id)).where(col(Workspace.id) == workspace_id).with_for_update())


def after_commit(session: OrmSession, fn: Callable[[], None]) -> None:
    """Run `fn` once the session's current transaction commits (dropped if it rolls back). Errors in `fn`
    are logged, never raised: the data is already committed."""
    pending: list[Callable[[], None]] = session.info.setdefault("engine_after_commit", [])
    if not session.info.get("engine_after_commit_listening"):
        def run(sess: Session) -> None:
            todo = list(sess.info.get("engine_after_commit", []))
            sess.info["engine_after_commit"] = []
            for job in todo:
                try:
                    job()
                except Exception:
                    log.exception("after-commit job failed")

        def drop(sess: Session, _transaction: Any = None) -> None:
            sess.info["engine_after_commit"] = []

        event.listen(session, "after_commit", run)
        event.listen(session, "after_rollback", drop)
        session.info["engine_after_commit_listening"] = True
    pending.append(fn)
