"""Typed access to what SQLModel leaves untyped for a type checker: a saved row's id and a model's Table."""

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel


class HasId(Protocol):
    """A table whose primary key is an autoincrement `id: int | None` (None only until its first flush)."""

    @property
    def id(self) -> int | None: ...


def row_id(row: HasId) -> int:
    """The id of a row that has been flushed or loaded: the `int | None` of the model narrowed, loudly if the
    row was never flushed (a bug, never a value to pass on)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def pk_ids(values: Iterable[int | None]) -> list[int]:
    """Ids selected from an autoincrement primary key (never NULL in the database; SQLModel types the column
    as the model's `int | None` field)."""
    return [v for v in values if v is not None]


def table_of(model: type[SQLModel]) -> Table:
    """The model's Core Table (SQLModel sets `__table__` on each table class but does not declare it)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a Table")
    return table
