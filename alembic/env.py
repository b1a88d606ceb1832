"""Alembic wired to the project's models and DATABASE_URL (engine.settings)."""

from alembic import context
from sqlmodel import SQLModel

import engine.models  # noqa: F401  (registers every table on SQLModel.metadata)
from engine.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=str(get_engine().url), target_metadata=target_metadata, render_as_batch=True,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with get_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
