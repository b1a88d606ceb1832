"""Logins: bcrypt password hashes; a random session token whose SHA-256 is stored, so a DB leak is no login.

Sign-in is throttled per username and per client address (engine.services.login_throttle), and an unknown
username is checked against a dummy hash of the same cost, so the answer's timing does not tell whether a
user exists: every attempt that is not locked runs bcrypt exactly once.
"""

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

import bcrypt
from sqlmodel import Session, select

from engine import clock
from engine.errors import Invalid
from engine.models import AuthSession, User, row_id
from engine.services import login_throttle
from engine.settings import get_settings

#: bcrypt cost of new hashes (create-admin) and of the dummy hash an unknown username is checked against
HASH_ROUNDS = 12
WRONG_CREDENTIALS = "Wrong username or password."
DEACTIVATED = "This account is deactivated: ask an admin to reactivate it."


def hash_password(password: str, *, rounds: int = HASH_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made once per process at the real cost."""
    return hash_password(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(*, session: Session, username: str, password: str, address: str = "") -> str:
    """Check the credentials and open a session; returns the token for the browser's cookie.

    `address` is the client's IP as the web server saw it ("" = not known: only the username is throttled).
    A locked username or address is refused before the password is looked at."""
    attempt = login_throttle.begin(username, address)
    fallback = dummy_hash()  # made before the lookup, so the process's first attempt costs the same either way
    user = session.exec(select(User).where(User.username == username.strip())).first()
    ok = verify_password(password, user.password_hash if user is not None else fallback)
    if user is None or not ok:
        raise Invalid(WRONG_CREDENTIALS)
    if not user.active:  # said only to whoever knows the password; the slot stays a failure
        raise Invalid(DEACTIVATED)
    login_throttle.succeeded(attempt)
    user.last_login_at = clock.now()
    session.add(user)
    token = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(days=get_settings().session_days)
    session.add(AuthSession(token_hash=_digest(token), user_id=row_id(user), expires_at=expires))
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    if not token:
        return None
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _digest(token))).first()
    if row is None or row.expires_at <= clock.now():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def logout(*, session: Session, token: str) -> None:
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _digest(token))).first()
    if row is not None:
        session.delete(row)
        session.flush()
