"""Per-workspace API keys: the key is shown once when generated; only its SHA-256 is stored, so a database
leak gives no access. Keys are long random strings, so a fast hash is enough (nothing to brute-force)."""

import hashlib
import secrets

from sqlmodel import Session, select

from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Role, User, Workspace

KEY_PREFIX = "amk_"
MIN_KEY_LENGTH = 24


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin can manage the workspace's API key.")


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace


def set_api_key(*, session: Session, workspace_id: int, key: str) -> None:
    """Install a chosen key (the demo's documented key); replaces any previous one."""
    if len(key) < MIN_KEY_LENGTH:
        raise Invalid(f"An API key needs at least {MIN_KEY_LENGTH} characters.")
    workspace = _workspace(session, workspace_id)
    workspace.api_key_hash = hash_key(key)
    session.add(workspace)
    session.flush()


def generate_api_key(*, session: Session, actor: User) -> str:
    """A new random key for the actor's workspace (admins only); the previous key stops working at once.
    Returns the key: show it once, it cannot be read back."""
    _require_admin(actor)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    set_api_key(session=session, workspace_id=actor.workspace_id, key=key)
    return key


def revoke_api_key(*, session: Session, actor: User) -> None:
    """No key at all: the API refuses every request for the workspace (admins only)."""
    _require_admin(actor)
    workspace = _workspace(session, actor.workspace_id)
    workspace.api_key_hash = None
    session.add(workspace)
    session.flush()


def has_api_key(*, session: Session, workspace_id: int) -> bool:
    return _workspace(session, workspace_id).api_key_hash is not None


def workspace_for_key(*, session: Session, key: str) -> int | None:
    """The workspace a key belongs to, or None."""
    if not key or len(key) < MIN_KEY_LENGTH:
        return None
    return session.exec(select(Workspace.id).where(Workspace.api_key_hash == hash_key(key))).first()
