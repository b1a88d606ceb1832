"""Logins: bcrypt password hashes; a random session token whose SHA-256 is stored, so a DB leak is no login."""

import hashlib
import secrets
from datetime import timedelta

import bcrypt
from sqlmodel import Session, select

from engine import clock
from engine.errors import Invalid
from engine.models import AuthSession, User
from engine.settings import get_settings


def hash_password(password: str, *, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(*, session: Session, username: str, password: str) -> str:
    """Check the credentials and open a session; returns the token for the browser's cookie."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not verify_password(password, user.password_hash):
        raise Invalid("Wrong username or password.")
    token = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(days=get_settings().session_days)
    session.add(AuthSession(token_hash=_digest(token), user_id=user.id, expires_at=expires))
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    if not token:
        return None
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _digest(token))).first()
    if row is None or row.expires_at <= clock.now():
        return None
    return session.get(User, row.user_id)


def logout(*, session: Session, token: str) -> None:
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _digest(token))).first()
    if row is not None:
        session.delete(row)
        session.flush()
