"""The channel settings a workspace sends with: the environment's defaults (engine/settings.py) overridden by what
its admin stored in Settings → Channels (table `channelsetting`).

`channel_settings(workspace_id)` is the one function the channel code reads them through (the registry builds a
workspace's channels from it). Workers must not read the database per message, so the result is cached per
process for CACHE_TTL_S seconds: another process (a worker) picks an admin's edit up within that time, the
process that saved it at once (`invalidate`, called after the commit). The same rule as the outbound
allow-list's (engine/outbound.py `STORED_REFRESH_S`), for the same reason: edits are rare, sends are many.

Which settings may be stored, their types, limits and which are secrets is `FIELDS`: the service that saves them
(engine/services/channel_settings.py) and this loader read the same list. Secret values are decrypted here
(engine/secrets.py) into the in-memory Settings a channel is built from, never returned by any read path.
"""

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from cryptography.fernet import InvalidToken
from sqlmodel import select

from engine.db import read_session
from engine.models import ChannelSetting
from engine.secrets import SecretUnavailable, decrypt
from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)

CACHE_TTL_S = 5.0  # how long a process keeps a workspace's channel settings before reading them again
_now = time.monotonic  # the cache's clock (a test moves it instead of waiting)

#: the channels of the settings page, in display order: (key, label)
GROUPS: tuple[tuple[str, str], ...] = (
    ("email", "Email (SMTP)"),
    ("provider", "SMS, WeChat and push provider"),
    ("webhook", "Webhook defaults"),
    ("kafka", "Kafka"),
)


@dataclass(frozen=True)
class FieldSpec:
    """One storable setting: `name` is the engine/settings.py attribute it overrides."""

    name: str
    group: str
    label: str
    kind: str  # text | int | float | bool | choice | secret
    help: str = ""
    address: str = ""  # host | url | servers: checked by the outbound fence when saved
    choices: tuple[str, ...] = ()
    low: float = 0
    high: float = 0
    max_length: int = 300

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("smtp_host", "email", "SMTP host", "text", "Name or address of the mail relay.", address="host",
              max_length=253),
    FieldSpec("smtp_port", "email", "SMTP port", "int", low=1, high=65535),
    FieldSpec("smtp_username", "email", "SMTP user", "text", "Empty: no login.", max_length=200),
    FieldSpec("smtp_password", "email", "SMTP password", "secret", max_length=500),
    FieldSpec("smtp_starttls", "email", "STARTTLS", "bool"),
    FieldSpec("smtp_ssl", "email", "Implicit TLS (port 465)", "bool"),
    FieldSpec("email_from", "email", "From", "text", "e.g. Marketing <marketing@example.com>", max_length=200),
    FieldSpec("provider_url", "provider", "Provider URL", "text",
              "Base URL of the SMS / WeChat / push provider (its /v1/<channel>/send).", address="url",
              max_length=500),
    FieldSpec("provider_api_key", "provider", "Provider API key", "secret", "Sent as Authorization: Bearer.",
              max_length=500),
    FieldSpec("provider_timeout", "provider", "Timeout (s)", "float", low=0.5, high=120),
    FieldSpec("webhook_secret", "webhook", "Signing secret (default)", "secret",
              "Signs webhooks whose component has no secret of its own (X-Signature).", max_length=500),
    FieldSpec("webhook_timeout", "webhook", "Timeout (s)", "float", low=0.5, high=60),
    FieldSpec("webhook_max_attempts", "webhook", "Attempts", "int", low=1, high=10),
    FieldSpec("webhook_batch_size", "webhook", "Customers per POST", "int", "1 = one POST per customer.",
              low=1, high=1000),
    FieldSpec("kafka_bootstrap_servers", "kafka", "Bootstrap servers", "text",
              "host:port, comma-separated; “simulator” = the local mock cluster.", address="servers",
              max_length=1000),
    FieldSpec("kafka_security_protocol", "kafka", "Security protocol", "choice",
              choices=("", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")),
    FieldSpec("kafka_sasl_mechanism", "kafka", "SASL mechanism", "choice",
              choices=("", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")),
    FieldSpec("kafka_sasl_username", "kafka", "SASL user", "text", max_length=200),
    FieldSpec("kafka_sasl_password", "kafka", "SASL password", "secret", max_length=500),
)

BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}


def parse(spec: FieldSpec, text: str) -> Any:
    """The typed value of `text` for `spec`; ValueError with words an admin understands."""
    text = text.strip() if spec.kind != "secret" else text
    if "\n" in text or "\r" in text:
        raise ValueError(f"{spec.label}: one line only")
    if len(text) > spec.max_length:
        raise ValueError(f"{spec.label}: at most {spec.max_length} characters")
    if spec.kind == "bool":
        if text.lower() in ("true", "on", "1", "yes"):
            return True
        if text.lower() in ("false", "off", "0", "no", ""):
            return False
        raise ValueError(f"{spec.label}: on or off")
    if spec.kind in ("int", "float"):
        try:
            number: float = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise ValueError(f"{spec.label}: a {'whole ' if spec.kind == 'int' else ''}number") from None
        if not spec.low <= number <= spec.high:
            raise ValueError(f"{spec.label}: between {spec.low:g} and {spec.high:g}")
        return number
    if spec.kind == "choice":
        if text not in spec.choices:
            raise ValueError(f"{spec.label}: one of {', '.join(c for c in spec.choices if c)} (or empty)")
        return text
    if spec.name == "email_from" and text and "@" not in parseaddr(text)[1]:
        raise ValueError(f"{spec.label}: an address like Marketing <marketing@example.com>")
    return text


def as_text(value: Any) -> str:
    """A setting's value as the form shows and the table stores it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ChannelConfig:
    """A workspace's effective channel settings; `key` changes whenever its stored overrides do ("" = none:
    the environment's), so channels built from them can be shared and rebuilt when it changes."""

    settings: Settings = field(repr=False)  # holds decrypted secrets: never in a log line or a traceback
    key: str = ""
    stored: frozenset[str] = frozenset()  # the names overridden by the workspace


def load(workspace_id: int, base: Settings | None = None) -> ChannelConfig:
    """Read the workspace's overrides now (no cache): its stored rows over `base` (the environment's)."""
    base = base or get_settings()
    with read_session() as session:
        rows = session.exec(select(ChannelSetting).where(ChannelSetting.workspace_id == workspace_id)
                            .order_by(ChannelSetting.name)).all()
    update: dict[str, Any] = {}
    digest = hashlib.sha256()
    for row in rows:
        spec = BY_NAME.get(row.name)
        if spec is None:
            continue  # a setting no longer offered
        digest.update(f"{row.name}\0{row.value}\0{row.id}\0{row.updated_at}\0".encode())
        if spec.secret:
            try:
                update[row.name] = decrypt(row.ciphertext or b"")
            except (InvalidToken, SecretUnavailable):
                log.error("workspace %s: the stored %s cannot be decrypted with SECRETS_KEY (was the key "
                          "changed?); sending without it", workspace_id, row.name)
                update[row.name] = ""
            continue
        try:
            update[row.name] = parse(spec, row.value)
        except ValueError as err:
            log.error("workspace %s: stored %s ignored: %s", workspace_id, row.name, err)
    if not update:
        return ChannelConfig(base, "", frozenset())
    return ChannelConfig(base.model_copy(update=update), digest.hexdigest()[:16], frozenset(update))


class _Cache:
    """workspace id → (read at, the base Settings it was built on, its ChannelConfig)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[float, Settings, ChannelConfig]] = {}

    def get(self, workspace_id: int) -> ChannelConfig:
        base = get_settings()
        with self._lock:
            entry = self._entries.get(workspace_id)
        if entry is not None and entry[1] is base and _now() - entry[0] < CACHE_TTL_S:
            return entry[2]
        try:
            config = load(workspace_id, base)
        except Exception:  # an unreachable database must not stop the sends: keep what we had (or the env's)
            log.warning("channel settings of workspace %s could not be read; using the last known ones",
                        workspace_id, exc_info=True)
            config = entry[2] if entry is not None and entry[1] is base else ChannelConfig(base, "", frozenset())
        with self._lock:
            self._entries[workspace_id] = (_now(), base, config)
        return config

    def invalidate(self, workspace_id: int | None = None) -> None:
        with self._lock:
            if workspace_id is None:
                self._entries.clear()
            else:
                self._entries.pop(workspace_id, None)


_cache = _Cache()


def channel_config(workspace_id: int | None) -> ChannelConfig:
    """The workspace's effective channel settings, cached CACHE_TTL_S per process (None: the environment's)."""
    if workspace_id is None:
        return ChannelConfig(get_settings(), "", frozenset())
    return _cache.get(workspace_id)


def channel_settings(workspace_id: int | None) -> Settings:
    """The Settings a workspace's channels are built from (see `channel_config`)."""
    return channel_config(workspace_id).settings


def invalidate(workspace_id: int | None = None) -> None:
    """Forget the cached settings (of one workspace, or all): the next read goes to the database."""
    _cache.invalidate(workspace_id)
