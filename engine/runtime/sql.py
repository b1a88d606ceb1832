"""Dialect-aware bulk writes that ignore or overwrite duplicates (idempotent re-delivery), and the write
transaction of the runtime's hot paths."""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from engine.db import write_session
from engine.settings import get_settings

#: SQLite has one writer; a connection that waits for it inside SQLite sleeps in growing steps (up to 100 ms)
#: even after it is free. The runtime's writers queue instead: the threads of a process on this lock, the
#: processes (workers, API) on a kernel file lock next to the database, which wakes the next one at once.
_WRITER = threading.RLock()
_LOCK_FILES: dict[tuple[int, str], int] = {}  # (pid, lock path) → file descriptor


def _lock_path() -> str | None:
    url = get_settings().database_url
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" else f"{path}-writer.lock"


@contextmanager
def _processes_take_turns() -> Iterator[None]:
    path = _lock_path()
    if path is None:  # PostgreSQL: rows lock, writers do not queue
        yield
        return
    key = (os.getpid(), path)  # a forked child opens its own: a shared descriptor would share the lock
    fd = _LOCK_FILES.get(key)
    if fd is None:
        fd = _LOCK_FILES[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def runtime_write() -> Iterator[Session]:
    """`write_session()` for the runtime's frequent short writes (a walk's steps, receipts): committed before
    the next writer in line is let in."""
    with _WRITER, _processes_take_turns(), write_session() as session:
        yield session


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).on_conflict_do_nothing(), rows)


def upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
    session.execute(stmt, rows)
