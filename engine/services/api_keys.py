"""Named API keys of a workspace for the HTTP API (issue 15, Settings → API keys; admins only).

A key is shown once, when created: only its SHA-256 is stored (keys are long random strings, so a fast hash is
enough: nothing to brute-force), with its first characters to recognise it by. A revoked key stays listed and is
refused at once. `workspace_for_key` is the API's one look-up; it also records when a key was last used, at most
once a minute per key and process (`USE_INTERVAL`), so the hot path stays one indexed read.
"""

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from engine import clock
from engine.db import write_session
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ApiKey, Role, User, Workspace, row_id

KEY_PREFIX = "amk_"
MIN_KEY_LENGTH = 24
PREFIX_SHOWN = 12  # "amk_" and 8 random characters: enough to tell keys apart, far too few to guess the rest
NAME_MAX = 60
ACTIVE_KEYS_MAX = 20
#: last_used_at is written at most this often per key
USE_INTERVAL = timedelta(minutes=1)
ADMINS_ONLY = "Only an admin can manage the workspace's API keys."


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyRow:
    id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    id: int
    name: str
    prefix: str
    key: str  # the whole key: returned once, never stored


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMINS_ONLY)


def _active(session: Session, workspace_id: int) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).where(ApiKey.workspace_id == workspace_id,
                                                  col(ApiKey.revoked_at).is_(None))).all())


def list_api_keys(*, session: Session, actor: User) -> list[KeyRow]:
    """Every key of the actor's workspace, unrevoked first, newest first."""
    _require_admin(actor)
    keys = session.exec(select(ApiKey).where(ApiKey.workspace_id == actor.workspace_id).order_by(
        col(ApiKey.revoked_at).is_not(None), col(ApiKey.created_at).desc(), col(ApiKey.id).desc())).all()
    ids = {k.created_by for k in keys if k.created_by is not None}
    names = dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()) if ids else {}
    return [KeyRow(id=row_id(k), name=k.name, prefix=k.prefix, created_by=names.get(k.created_by, "") if
                   k.created_by is not None else "", created_at=k.created_at, last_used_at=k.last_used_at,
                   revoked_at=k.revoked_at) for k in keys]


def _check_name(session: Session, workspace_id: int, name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Name the key (e.g. the system that will use it).")
    if len(name) > NAME_MAX:
        raise Invalid(f"A key's name can be at most {NAME_MAX} characters ({len(name)} now).")
    if any(k.name.casefold() == name.casefold() for k in _active(session, workspace_id)):
        raise Conflict(f'A key named "{name}" is already in use: choose another name.')
    return name


def _add(session: Session, workspace_id: int, name: str, key: str, actor: User | None, prefix: str) -> ApiKey:
    row = ApiKey(workspace_id=workspace_id, name=name, key_hash=hash_key(key), prefix=prefix,
                 created_by=actor.id if actor else None)
    session.add(row)
    session.flush()
    return row


def create_api_key(*, session: Session, actor: User, name: str) -> CreatedKey:
    """A new random key for the actor's workspace (admins only), next to the existing ones. The returned key is
    the only time it is seen."""
    _require_admin(actor)
    name = _check_name(session, actor.workspace_id, name)
    if len(_active(session, actor.workspace_id)) >= ACTIVE_KEYS_MAX:
        raise Conflict(f"A workspace can have at most {ACTIVE_KEYS_MAX} keys in use: revoke one first.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = _add(session, actor.workspace_id, name, key, actor, key[:PREFIX_SHOWN])
    return CreatedKey(id=row_id(row), name=name, prefix=row.prefix, key=key)


def revoke_api_key(*, session: Session, actor: User, key_id: int) -> KeyRow:
    """The key stops working at once (admins only); it stays listed as revoked."""
    _require_admin(actor)
    row = session.get(ApiKey, key_id)
    if row is None or row.workspace_id != actor.workspace_id:
        raise NotFound("This API key does not exist (any more).")
    if row.revoked_at is not None:
        raise Conflict(f'The key "{row.name}" is already revoked.')
    row.revoked_at = clock.now()
    session.add(row)
    session.flush()
    return next(k for k in list_api_keys(session=session, actor=actor) if k.id == key_id)


def set_api_key(*, session: Session, workspace_id: int, key: str, name: str = "Installed key") -> None:
    """Install a chosen key (the demo's documented key, tests, benchmarks) next to any others; nothing happens
    when that key is already installed."""
    if len(key) < MIN_KEY_LENGTH:
        raise Invalid(f"An API key needs at least {MIN_KEY_LENGTH} characters.")
    if session.get(Workspace, workspace_id) is None:
        raise NotFound("Workspace not found.")
    if session.exec(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key))).first() is None:
        _add(session, workspace_id, name, key, None, key[:PREFIX_SHOWN])


def has_api_key(*, session: Session, workspace_id: int) -> bool:
    """Whether the workspace has a key in use."""
    return session.exec(select(func.count()).select_from(ApiKey).where(
        ApiKey.workspace_id == workspace_id, col(ApiKey.revoked_at).is_(None))).one() > 0


_uses: dict[str, datetime] = {}  # key hash → when this process last wrote its last_used_at
_uses_lock = threading.Lock()


def _due(digest: str, now: datetime) -> bool:
    with _uses_lock:
        last = _uses.get(digest)
        if last is not None and now - last < USE_INTERVAL and now >= last:
            return False
        _uses[digest] = now
        return True


def _record_use(session: Session, key_id: int, now: datetime) -> None:
    session.execute(update(ApiKey).where(
        col(ApiKey.id) == key_id,
        (col(ApiKey.last_used_at).is_(None)) | (col(ApiKey.last_used_at) < now - USE_INTERVAL),
    ).values(last_used_at=now))


def workspace_for_key(*, session: Session, key: str) -> int | None:
    """The workspace an unrevoked key belongs to, or None. Records the use (throttled): in `session` when it is a
    write session (committed with it), else in a short write of its own."""
    if not key or len(key) < MIN_KEY_LENGTH:
        return None
    digest = hash_key(key)
    found = session.exec(select(col(ApiKey.id), ApiKey.workspace_id).where(
        ApiKey.key_hash == digest, col(ApiKey.revoked_at).is_(None))).first()
    if found is None:
        return None
    key_id, workspace_id = found
    now = clock.now()
    if key_id is not None and _due(digest, now):
        if session.info.get("writes"):
            _record_use(session, key_id, now)
        else:
            with write_session() as writer:
                _record_use(writer, key_id, now)
    return workspace_id
