"""What the list should show, asked from the engine services directly on the app's database.

The tests compare the page with these answers instead of hard-coding demo content.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select

from engine.db import make_engine
from engine.errors import ServiceError
from engine.models import User
from engine.services.auth import login
from engine.services.listing import ActivityPage, ListQuery, list_activities, status_counts
from marketing_app.states.activities import PAGE_SIZE


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.rollback()  # read-only: never leave anything behind
    finally:
        engine.dispose()


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def display(database_url: str, username: str) -> tuple[str, str]:
    with _session(database_url) as session:
        user = _user(session, username)
        return user.display_name, str(user.role)


def page(database_url: str, username: str, status: str | None = None, number: int = 1) -> ActivityPage:
    with _session(database_url) as session:
        query = ListQuery(status=status, page=number, page_size=PAGE_SIZE)
        return list_activities(session=session, actor=_user(session, username), query=query)


def counts(database_url: str, username: str) -> dict[str, int]:
    with _session(database_url) as session:
        return status_counts(session=session, actor=_user(session, username))


def login_refusal(database_url: str, username: str, password: str) -> str:
    """The message the auth service gives for these credentials (the page must show it as is)."""
    with _session(database_url) as session:
        try:
            login(session=session, username=username, password=password)
        except ServiceError as err:
            return err.message
    raise AssertionError("expected the login to be refused")
