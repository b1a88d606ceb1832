"""Accounts made by an operator (python -m engine.admin): a first admin on a server database, never a known
password. The password rule is deliberately simple and explained in its messages."""

from sqlmodel import Session, select

from engine.errors import Conflict, Invalid
from engine.models import Role, User, Workspace, row_id
from engine.services.auth import hash_password

PASSWORD_MIN = 12
USERNAME_MAX = 40  # User.username's column length
DEFAULT_WORKSPACE = "Default"
#: the most common choices and the demo's own passwords: refused whatever their length
_COMMON = {"password", "password123", "123456789012", "qwertyuiop", "letmein", "welcome", "iloveyou",
           "admin", "admin123", "marketer123", "manager123", "reviewer123", "changeme", "administrator"}


def check_password(password: str, *, username: str) -> None:
    """Raise Invalid with the reason when a new password is too weak."""
    if not password or not password.strip():
        raise Invalid("Enter a password.")
    if len(password) < PASSWORD_MIN:
        raise Invalid(f"A password needs at least {PASSWORD_MIN} characters.")
    lowered = password.casefold()
    if lowered in _COMMON or lowered.rstrip("0123456789!") in _COMMON:
        raise Invalid("This password is too common: choose another.")
    if username and username.casefold() in lowered:
        raise Invalid("A password must not contain the username.")
    if len(set(password)) < 5:
        raise Invalid("A password needs at least 5 different characters.")


def create_admin(*, session: Session, username: str, password: str, display_name: str = "",
                 workspace: str = "") -> User:
    """An admin in `workspace` (the only one when there is one, else a new "Default"); refuses an existing
    username or a weak password before writing anything."""
    username = (username or "").strip()
    if not username:
        raise Invalid("Enter a username.")
    if len(username) > USERNAME_MAX:
        raise Invalid(f"A username can be at most {USERNAME_MAX} characters.")
    check_password(password, username=username)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f'A user named "{username}" already exists.')
    ws = _workspace(session, workspace.strip())
    user = User(workspace_id=row_id(ws), username=username, display_name=(display_name.strip() or username)[:60],
                password_hash=hash_password(password), role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


def _workspace(session: Session, name: str) -> Workspace:
    if name:
        found = session.exec(select(Workspace).where(Workspace.name == name)).first()
    else:
        every = session.exec(select(Workspace).limit(2)).all()
        if len(every) > 1:
            raise Invalid("This database has several workspaces: name one with --workspace.")
        found = every[0] if every else None
    if found is None:
        found = Workspace(name=name or DEFAULT_WORKSPACE)
        session.add(found)
        session.flush()
    return found
