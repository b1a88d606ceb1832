"""What the page should show, asked from the engine services directly on the app's database.

The tests compare the page with these answers instead of hard-coding demo content. `arrange` is the only place
a test changes data behind the page's back (e.g. the workspace's in-progress cap).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlmodel import Session, select

from engine.db import make_engine
from engine.errors import ServiceError
from engine.models import Activity, ActivityGroup, MarketingCampaign, User, Workspace
from engine.services.auth import WRONG_CREDENTIALS, verify_password
from engine.services.groups import GroupNode, list_tree
from engine.services.listing import ActivityPage, ListQuery, list_activities, status_counts
from marketing_app.states.paged_list import PAGE_SIZE

T = TypeVar("T")


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session  # never committed: closing the session drops whatever a service call changed
    finally:
        engine.dispose()


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def display(database_url: str, username: str) -> tuple[str, str]:
    with _session(database_url) as session:
        user = _user(session, username)
        return user.display_name, str(user.role)


def page(database_url: str, username: str, status: str | None = None, number: int = 1, **query: Any) -> ActivityPage:
    query.setdefault("page_size", PAGE_SIZE)
    with _session(database_url) as session:
        q = ListQuery(status=status, page=number, **query)
        return list_activities(session=session, actor=_user(session, username), query=q)


def counts(database_url: str, username: str, **scope: Any) -> dict[str, int]:
    with _session(database_url) as session:
        return status_counts(session=session, actor=_user(session, username), **scope)


def activity(database_url: str, name: str) -> Activity:
    with _session(database_url) as session:
        return session.exec(select(Activity).where(Activity.name == name)).one()


def group_id(database_url: str, name: str) -> int:
    with _session(database_url) as session:
        found = session.exec(select(ActivityGroup).where(ActivityGroup.name == name)).one()
        assert found.id is not None
        return found.id


def tree(database_url: str, username: str) -> list[GroupNode]:
    with _session(database_url) as session:
        return list_tree(session=session, actor=_user(session, username))


def sub_campaign_ids(database_url: str, primary: str) -> list[int]:
    with _session(database_url) as session:
        parent = session.exec(select(MarketingCampaign).where(MarketingCampaign.name == primary)).one()
        subs = session.exec(select(MarketingCampaign).where(MarketingCampaign.parent_id == parent.id)).all()
        return sorted(s.id for s in subs if s.id is not None)


def campaign_id(database_url: str, name: str) -> int:
    with _session(database_url) as session:
        found = session.exec(select(MarketingCampaign).where(MarketingCampaign.name == name)).one()
        assert found.id is not None
        return found.id


def call(database_url: str, username: str, fn: Callable[[Session, User], T]) -> T:
    """A service's answer for `username`, without keeping any change it makes."""
    with _session(database_url) as session:
        return fn(session, _user(session, username))


def refusal(database_url: str, username: str, fn: Callable[[Session, User], Any]) -> str:
    """The message a service refuses `fn` with (the page must show it as is); nothing is kept."""
    with _session(database_url) as session:
        try:
            fn(session, _user(session, username))
        except ServiceError as err:
            return err.message
    raise AssertionError("expected the service to refuse")


def login_refusal(database_url: str, username: str, password: str) -> str:
    """The message the auth service gives for wrong credentials (the page must show it as is). Not asked of the
    service itself: a real attempt would count as one more failure against this username in the app's Redis."""
    with _session(database_url) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        assert user is None or not verify_password(password, user.password_hash), "these credentials are right"
    return WRONG_CREDENTIALS


def arrange_cap(database_url: str, cap: int) -> None:
    """Set the workspace's in-progress cap (test arrangement: the page has no setting for it)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for ws in session.exec(select(Workspace)).all():
                ws.in_progress_cap = cap
                session.add(ws)
            session.commit()
    finally:
        engine.dispose()
