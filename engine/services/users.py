"""Accounts: a first admin made by an operator (python -m engine.admin) on a server database, never a known
password; and the admin's Settings → Users (issue 15): list, create with a role and an initial password (typed,
or generated and shown once), change role, deactivate / reactivate, reset a password.

A workspace always keeps an active admin: nobody demotes or deactivates the last one (checked under the
workspace lock, so two admins demoting each other at once cannot both succeed). Users are never deleted —
activities, versions and decisions name their author —; deactivating one ends their sessions and refuses their
sign-in. The password rule is deliberately simple and explained in its messages."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from engine.db import lock_workspace
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuthSession, Role, User, Workspace, row_id
from engine.services.auth import hash_password
from engine.shared.customers import field_problem, normalize_phone
from engine.shared.staff import sync_user

PASSWORD_MIN = 12
USERNAME_MAX = 40  # User.username's column length
DISPLAY_NAME_MAX = 60  # User.display_name's column length
#: logins made in Settings: no spaces (they are typed at every sign-in), nothing a URL or a log would mangle
_USERNAME = re.compile(r"[A-Za-z0-9._@-]+")
ADMINS_ONLY = "Only an admin can manage users."
ROLE_LABELS = {Role.ADMIN: "Admin", Role.MARKETER: "Marketer", Role.MANAGER: "Manager", Role.REVIEWER: "Reviewer"}
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


# ---------------------------------------------------------------- Settings → Users (admins)


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    last_login_at: datetime | None
    created_at: datetime
    is_self: bool
    phone: str = ""  # issue 14: the staff contact a test round can reach ("" = none)
    email: str = ""


@dataclass(frozen=True)
class PasswordShown:
    """A user and the password to hand over: "" when the admin typed it (they know it), else the generated one,
    shown once and never stored in clear."""

    user: UserRow
    password: str


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMINS_ONLY)


def _row(user: User, actor: User) -> UserRow:
    return UserRow(id=row_id(user), username=user.username, display_name=user.display_name, role=user.role,
                   active=user.active, last_login_at=user.last_login_at, created_at=user.created_at,
                   is_self=user.id == actor.id, phone=user.phone or "", email=user.email or "")


def _target(session: Session, actor: User, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.workspace_id != actor.workspace_id:
        raise NotFound("This user does not exist (any more).")
    return user


def _role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Invalid(f"Choose a role: {', '.join(ROLE_LABELS.values())}.") from None


def generate_password(username: str = "") -> str:
    """A random password that passes `check_password` (16 URL-safe characters)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_password(password, username=username)
        except Invalid:
            continue
        return password


def _password(password: str, username: str) -> tuple[str, str]:
    """(the password to hash, the one to show): a typed one is checked and not shown back; none is generated."""
    if password:
        check_password(password, username=username)
        return password, ""
    made = generate_password(username)
    return made, made


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user_id))


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse taking away the workspace's last active admin (`user` is about to stop being one)."""
    if user.role != Role.ADMIN or not user.active:
        return
    lock_workspace(session, user.workspace_id)
    others = session.exec(select(func.count()).select_from(User).where(
        User.workspace_id == user.workspace_id, User.role == Role.ADMIN, col(User.active).is_(True),
        User.id != user.id)).one()
    if others == 0:
        raise Conflict(f"{user.display_name} is the last active admin: make another user an admin first "
                       "(a workspace always keeps one).")


def list_users(*, session: Session, actor: User) -> list[UserRow]:
    """The workspace's users, active first, by name."""
    _require_admin(actor)
    users = session.exec(select(User).where(User.workspace_id == actor.workspace_id).order_by(
        col(User.active).desc(), func.lower(col(User.display_name)), col(User.id))).all()
    return [_row(u, actor) for u in users]


def create_user(*, session: Session, actor: User, username: str, display_name: str, role: str | Role,
                password: str = "") -> PasswordShown:
    """A user of the actor's workspace. An empty `password` gets a generated one, returned to be shown once."""
    _require_admin(actor)
    username = (username or "").strip()
    if not username:
        raise Invalid("Enter a username (what they type to sign in).")
    if len(username) > USERNAME_MAX:
        raise Invalid(f"A username can be at most {USERNAME_MAX} characters ({len(username)} now).")
    if not _USERNAME.fullmatch(username):
        raise Invalid("A username may hold letters, digits and . _ @ - only (no spaces).")
    display_name = (display_name or "").strip() or username
    if len(display_name) > DISPLAY_NAME_MAX:
        raise Invalid(f"A name can be at most {DISPLAY_NAME_MAX} characters ({len(display_name)} now).")
    chosen = _role(role)
    if session.exec(select(User.id).where(func.lower(col(User.username)) == username.lower())).first() is not None:
        raise Conflict(f'The username "{username}" is taken: choose another.')
    secret, shown = _password(password, username)
    user = User(workspace_id=actor.workspace_id, username=username, display_name=display_name,
                password_hash=hash_password(secret), role=chosen)
    session.add(user)
    session.flush()
    return PasswordShown(user=_row(user, actor), password=shown)


def change_role(*, session: Session, actor: User, user_id: int, role: str | Role) -> UserRow:
    _require_admin(actor)
    user = _target(session, actor, user_id)
    chosen = _role(role)
    if chosen != user.role:
        if chosen != Role.ADMIN:
            _keep_an_admin(session, user)
        user.role = chosen
        session.add(user)
        session.flush()
    return _row(user, actor)


def set_active(*, session: Session, actor: User, user_id: int, active: bool) -> UserRow:
    """Deactivate (sessions end, sign-in refused) or reactivate a user. An admin cannot deactivate themself."""
    _require_admin(actor)
    user = _target(session, actor, user_id)
    if user.active == active:
        return _row(user, actor)
    if not active:
        if user.id == actor.id:
            raise Conflict("You cannot deactivate your own account: ask another admin.")
        _keep_an_admin(session, user)
        _end_sessions(session, row_id(user))
    user.active = active
    session.add(user)
    session.flush()
    sync_user(session, user)  # a deactivated staff tester's hidden row loses its contact
    return _row(user, actor)


def set_contact(*, session: Session, actor: User, user_id: int, phone: str = "", email: str = "") -> UserRow:
    """Issue 14: a user's staff contact (a phone, an email, or none), checked like a customer's; with one, the
    user can be added as a tester of an activity. Admins only (the user has no profile page of their own)."""
    _require_admin(actor)
    user = _target(session, actor, user_id)
    values: dict[str, str | None] = {}
    for field, value in (("phone", phone), ("email", email)):
        value = (value or "").strip()
        problem = field_problem(field, value) if value else None
        if problem:
            raise Invalid(problem[0].upper() + problem[1:] + ".")
        values[field] = (normalize_phone(value) if field == "phone" else value) or None
    user.phone, user.email = values["phone"], values["email"]
    session.add(user)
    session.flush()
    sync_user(session, user)
    return _row(user, actor)


def reset_password(*, session: Session, actor: User, user_id: int, password: str = "") -> PasswordShown:
    """A new password (typed, or generated and shown once); the user's other sessions end (not the admin's own
    current one when they reset their own)."""
    _require_admin(actor)
    user = _target(session, actor, user_id)
    secret, shown = _password(password, user.username)
    user.password_hash = hash_password(secret)
    session.add(user)
    if user.id != actor.id:
        _end_sessions(session, row_id(user))
    session.flush()
    return PasswordShown(user=_row(user, actor), password=shown)
