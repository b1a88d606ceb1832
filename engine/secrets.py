"""Encryption at rest and resolution of component secrets (the values behind `{"$secret": "<id>"}` markers).

The key: SECRETS_KEY (Fernet, comma-separated for rotation), else a key generated once into SECRETS_KEY_FILE
(data/secrets.key, mode 0600) at first start, so one machine needs no setup; hosts sharing a server database set
SECRETS_KEY in the environment. `reveal` is what a channel calls at the moment it sends: values are decrypted
there, cached per process (rows never change), and never written anywhere.
"""

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from engine.components.secret import SecretRef
from engine.db import read_session
from engine.models.secret import SecretValue
from engine.settings import get_settings

log = logging.getLogger(__name__)

_CACHE_MAX = 4096
_cache: dict[str, str] = {}
_lock = threading.Lock()


class SecretUnavailable(RuntimeError):
    """A referenced secret is missing or cannot be decrypted (its text names the reference, never a value)."""


def _key_file_key(path: Path) -> bytes:
    """The key in `path`, written there first if absent (O_EXCL: two processes starting together agree)."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    log.warning("SECRETS_KEY is not set: generated a key for component secrets in %s (keep it with the database; "
                "set SECRETS_KEY on every host when the database is shared)", path)
    return key


@lru_cache
def cipher() -> MultiFernet:
    settings = get_settings()
    keys = [k.strip().encode() for k in settings.secrets_key.split(",") if k.strip()]
    if not keys:
        keys = [_key_file_key(Path(settings.secrets_key_file))]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as err:
        raise SecretUnavailable("SECRETS_KEY is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
                                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
                                ".decode())'`") from err


def reset() -> None:
    """Forget the key and the decrypted values (tests that change SECRETS_KEY)."""
    cipher.cache_clear()
    with _lock:
        _cache.clear()


def encrypt(value: str) -> bytes:
    return cipher().encrypt(value.encode())


def decrypt(token: bytes) -> str:
    return cipher().decrypt(bytes(token)).decode()


def _load(secret_id: str) -> str:
    with read_session() as session:
        return _decrypted(session.get(SecretValue, secret_id), secret_id)


def _decrypted(row: Any, secret_id: str) -> str:
    if row is None:
        raise SecretUnavailable(f"secret {secret_id} not found")
    try:
        return decrypt(row.ciphertext)
    except InvalidToken:
        raise SecretUnavailable(f"secret {secret_id} ({row.field} of component {row.node_id}) cannot be decrypted "
                                "with SECRETS_KEY: was the key changed?") from None


def reveal(value: Any) -> Any:
    """The value behind a SecretRef (a plain one as typed); anything else as it is. For channels, at send time."""
    if not isinstance(value, SecretRef):
        return value
    if value.plain is not None:
        return value.plain
    if value.id is None:
        raise SecretUnavailable("a secret of this component was not copied with the activity: set it again")
    with _lock:
        found = _cache.get(value.id)
    if found is None:
        found = _load(value.id)
        with _lock:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[value.id] = found
    return found


def revealed(options: dict[str, Any]) -> dict[str, Any]:
    """A copy of a message's (or a producer's) options with every SecretRef, also inside `headers` and
    `kafka_config`, resolved — built by the channel for one request, never stored."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            out[key] = {k: reveal(v) for k, v in value.items()}
        else:
            out[key] = reveal(value)
    return out
