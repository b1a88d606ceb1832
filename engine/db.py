"""Database engine and sessions.

SQLite (the default) gets WAL, foreign keys and a busy timeout; services that must serialise a check-then-write
(the in-progress cap) open a `write_session`, which on SQLite begins with BEGIN IMMEDIATE and on other
databases locks the workspace row, so the rule holds under concurrent publishes from many processes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlmodel import Session

from engine.settings import get_settings


def _prepare_sqlite(engine: Engine, url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
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
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
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


def reset_engine() -> None:
    """Forget the cached engine (tests that point DATABASE_URL elsewhere)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def read_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session() -> Iterator[Session]:
    """A session whose transaction holds the database's write lock from its first statement (SQLite).

    Commits on success, rolls back on any exception, so a refused action leaves nothing half-saved.
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialise workspace-wide rules (the in-progress cap) across processes."""
    from engine.models import Workspace

    if session.get_bind().dialect.name != "sqlite":  # SQLite already holds the lock (BEGIN IMMEDIATE)
        session.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
