"""Core statements compiled once per dialect and run on the raw DBAPI cursor: the per-walk and per-event reads.

An ORM `session.execute(select(...))` costs 150–300 µs of CPU (building the statement, its cache key, the ORM
result machinery); the same read on the driver's cursor costs ~10 µs. The engine's hottest reads (a walk's
round, an event's open rounds and trigger) run thousands of times a second, so they are declared once here as
`Compiled(select(...))` with named bind parameters and return plain tuples (strings, not enums: compare with
str enums). Statements with expanding parameters (`IN` lists) are not supported: they compile per call.
"""

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy.sql import Select
from sqlmodel import Session


class Compiled:
    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._sql: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _for(self, session: Session) -> tuple[Any, tuple[str, tuple[str, ...] | None, dict[str, Any]]]:
        connection = session.connection()
        dialect = connection.dialect
        found = self._sql.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
            # the statement's own values (e.g. a status literal), as the column types bind them (enum -> text)
            # a bind's processors are a sequence only for tuple binds, which these statements do not use
            processors = cast(Mapping[str, Callable[[Any], Any]],
                              compiled._bind_processors)  # noqa: SLF001 — the public API would process per call
            defaults = {name: processors[name](value) if name in processors else value
                        for name, value in compiled.construct_params(_check=False).items() if value is not None}
            found = self._sql[dialect.name] = (str(compiled), positions, defaults)
        return connection.connection.driver_connection, found

    def all(self, session: Session, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, as tuples, read inside the session's transaction."""
        raw, (sql, positions, defaults) = self._for(session)
        values = {**defaults, **params}
        cursor = raw.cursor()
        try:
            cursor.execute(sql, tuple(values[name] for name in positions) if positions is not None else values)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        rows = self.all(session, **params)
        return rows[0] if rows else None
