"""Dialect-aware bulk writes that ignore or overwrite duplicates (idempotent re-delivery), and the write
transaction of the runtime's hot paths."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from engine.channels.wire import dumps
from engine.db import write_session


@contextmanager
def runtime_write() -> Iterator[Session]:
    """`write_session()` for the runtime's frequent short writes (a walk's rows, receipts): on SQLite every
    write session queues for its turn (engine/db.py), so this is the same thing under the runtime's name."""
    with write_session() as session:
        yield session


def raw_cursor(session: Session) -> Any:
    """A cursor of the driver's own connection (sqlite3, psycopg) under the session's, for the hot paths that skip
    SQLAlchemy's per-row work; the caller closes it."""
    driver = session.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's DBAPI connection is closed")
    return driver.cursor()


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


def insert_ignore_rows(session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert-or-ignore positional rows: on SQLite one executemany on the raw DBAPI cursor (the runtime's hottest
    write, without SQLAlchemy's per-row work), elsewhere the dialect's insert (executemany)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        sql = (f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        cursor = raw_cursor(session)
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()
        return
    insert_ignore(session, table, [dict(zip(columns, row, strict=True)) for row in rows])


#: customers sharing every other column of their rows are written with one statement from this many on
GROUPED_MIN = 16
#: (the other columns' values, in table order) → the customers of those rows
Groups = dict[tuple[Any, ...], list[int]]


def insert_ignore_grouped(session: Session, table: Table, columns: tuple[str, ...], member: str,
                          groups: Groups) -> None:
    """Insert-or-ignore the rows of `groups`: each key holds the values of `columns` but `member`, each list the
    `member` values (customer ids) of the rows sharing them. On SQLite a group of GROUPED_MIN or more is one
    statement that expands a JSON array of its members in SQL (`INSERT … SELECT … FROM json_each(?)`): SQLite
    loops in C instead of binding a row per customer from Python (a step row 2.3 → 1.0 µs measured alone, the
    json.dumps included). A walk's rows share all but the customer in a few dozen groups. Smaller groups, and
    other databases, go as rows (`insert_ignore_rows`)."""
    if not groups:
        return
    at = columns.index(member)
    small: list[tuple[Any, ...]] = []
    sqlite_db = session.get_bind().dialect.name == "sqlite"
    cursor = raw_cursor(session) if sqlite_db else None
    try:
        for key, members in groups.items():
            if cursor is not None and len(members) >= GROUPED_MIN:
                picks = ", ".join("value" if i == at else "?" for i in range(len(columns)))
                cursor.execute(f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) SELECT {picks} "
                               "FROM json_each(?)", (*key, id_array(members)))
            else:
                head, tail = key[:at], key[at:]
                small.extend((*head, m, *tail) for m in members)
    finally:
        if cursor is not None:
            cursor.close()
    insert_ignore_rows(session, table, columns, small)


def id_array(ids: list[int]) -> str:
    """Ids as the JSON array text that `json_each(?)` expands in SQL (orjson: the standard library's encoder was
    2 % of a walk; text, not bytes: SQLite would read a BLOB as its binary JSONB)."""
    return dumps(ids).decode()
