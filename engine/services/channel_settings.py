"""Settings → Channels: a workspace's stored channel settings (admin only), over the environment's defaults.

- `view` gives every setting of `FIELDS` (engine/channels/config.py) with its effective value and where it comes
  from; a secret only as "set" / "not set", never its value (neither a stored one nor the environment's).
- `save` stores what changed: a value equal to the environment's default removes the override, a secret typed
  in is stored encrypted (engine/secrets.py), an empty secret keeps the one set. Hosts and URLs that change go
  through the outbound fence first (engine/outbound.py: a loopback / private / metadata address is refused
  unless an admin allow-listed it). Every process sees the edit within CACHE_TTL_S, this one at once.
- `send_test` sends one message with the workspace's settings as they are stored now and reports what the
  provider, the SMTP server, the webhook receiver or Kafka answered, in words (never a traceback).
"""

import re
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import urlsplit

from sqlmodel import Session, col, delete, select

from engine import clock
from engine.channels import config as channel_config
from engine.channels.base import Message, SendStatus
from engine.channels.config import BY_NAME, FIELDS, GROUPS, FieldSpec, as_text, parse
from engine.channels.kafka import SIMULATOR
from engine.channels.registry import build
from engine.db import after_commit
from engine.errors import Forbidden, Invalid
from engine.models import ChannelSetting, Role, User, Workspace
from engine.outbound import AddressNotAllowed, Fence, split_server
from engine.secrets import encrypt
from engine.settings import get_settings

SET, NOT_SET = "set", "not set"
WORKSPACE, ENVIRONMENT = "workspace", "environment"


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin can see and change the channel settings.")


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    kind: str
    help: str
    value: str  # the effective value as text; always "" for a secret
    source: str  # "workspace" (stored override) or "environment" (the default)
    secret_state: str = ""  # secrets only: "set" / "not set"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupView:
    key: str
    label: str
    fields: list[FieldView] = field(default_factory=list)


def view(*, session: Session, actor: User) -> list[GroupView]:
    """Every channel's settings as the form shows them; secrets only say whether one is set."""
    _require_admin(actor)
    rows = {r.name: r for r in session.exec(select(ChannelSetting).where(
        ChannelSetting.workspace_id == actor.workspace_id)).all()}
    base = get_settings()
    groups = []
    for key, label in GROUPS:
        fields = []
        for spec in (f for f in FIELDS if f.group == key):
            row = rows.get(spec.name)
            source = WORKSPACE if row is not None else ENVIRONMENT
            if spec.secret:
                is_set = bool(row.ciphertext) if row is not None else bool(getattr(base, spec.name))
                fields.append(FieldView(spec.name, spec.label, spec.kind, spec.help, "", source,
                                        SET if is_set else NOT_SET))
                continue
            value = row.value if row is not None else as_text(getattr(base, spec.name))
            fields.append(FieldView(spec.name, spec.label, spec.kind, spec.help, value, source,
                                    choices=spec.choices))
        groups.append(GroupView(key, label, fields))
    return groups


def _effective(rows: dict[str, ChannelSetting], spec: FieldSpec) -> object:
    row = rows.get(spec.name)
    if row is None:
        return getattr(get_settings(), spec.name)
    return parse(spec, row.value)


def _fence_check(spec: FieldSpec, value: str, port: int, fence: Fence) -> None:
    """Invalid unless every address `value` names may be reached (after DNS resolution, as a send would)."""
    targets: list[tuple[str, int]] = []
    if spec.address == "host":
        targets = [(value, port)]
    elif spec.address == "url":
        try:
            parts = urlsplit(value)
            url_port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise Invalid(f"{spec.label}: not a URL.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid(f"{spec.label}: an http:// or https:// URL.")
        targets = [(parts.hostname, url_port)]
    elif spec.address == "servers":
        if value.strip().lower() == SIMULATOR:
            return  # the simulator's own mock cluster (dev and demo): trusted, as the Kafka channel does
        for server in (s for s in value.split(",") if s.strip()):
            try:
                targets.append(split_server(server))
            except ValueError:
                raise Invalid(f"{spec.label}: {server.strip()} is not host:port.") from None
    for host, target_port in targets:
        try:
            fence.check(host, target_port)
        except AddressNotAllowed as refused:
            raise Invalid(f"{spec.label}: {refused}.") from None
        except Exception as err:  # httpcore.ConnectError: the name does not resolve
            raise Invalid(f"{spec.label}: {err}.") from None


def save(*, session: Session, actor: User, group: str, values: dict[str, str], secrets: dict[str, str] | None = None,
         fence: Fence | None = None) -> list[str]:
    """Store a channel's settings as submitted by its form: `values` the plain fields (all or some), `secrets`
    the secret fields typed in ("" = keep the one set). Returns the names that changed. All or nothing: a
    refused field refuses the whole form."""
    _require_admin(actor)
    if group not in dict(GROUPS):
        raise Invalid(f"Unknown channel {group!r}.")
    secrets = secrets or {}
    for name in [*values, *secrets]:
        spec = BY_NAME.get(name)
        if spec is None or spec.group != group or spec.secret != (name in secrets):
            raise Invalid(f"{name} is not a setting of this channel.")
    workspace_id = actor.workspace_id
    rows = {r.name: r for r in session.exec(select(ChannelSetting).where(
        ChannelSetting.workspace_id == workspace_id)).all()}
    base = get_settings()
    parsed: dict[str, object] = {}
    for name, text in values.items():
        spec = BY_NAME[name]
        try:
            parsed[name] = parse(spec, str(text))
        except ValueError as err:
            raise Invalid(f"{err}.") from None
    for name in ("smtp_host", "provider_url", "kafka_bootstrap_servers"):
        if name in parsed and not str(parsed[name]):
            raise Invalid(f"{BY_NAME[name].label}: enter a host name or address.")
    changed = [name for name, value in parsed.items() if value != _effective(rows, BY_NAME[name])]
    # addresses: checked when they, or the port they are reached on, change
    port = int(str(parsed.get("smtp_port", _effective(rows, BY_NAME["smtp_port"]))))
    for name in [n for n in parsed if BY_NAME[n].address]:
        spec = BY_NAME[name]
        if name in changed or (spec.address == "host" and "smtp_port" in changed):
            _fence_check(spec, str(parsed[name]), port, fence or Fence())
    now = clock.now()
    for name in changed:
        value = parsed[name]
        row = rows.get(name)
        if value == getattr(base, name):  # back to the environment's default: no override
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = ChannelSetting(workspace_id=workspace_id, name=name)
        row.value, row.updated_by_id, row.updated_at = as_text(value), actor.id, now
        session.add(row)
    for name, text in secrets.items():
        if not isinstance(text, str) or text == "":
            continue  # nothing typed: the one set is kept
        spec = BY_NAME[name]
        try:
            parse(spec, text)
        except ValueError as err:
            raise Invalid(f"{err}.") from None
        row = rows.get(name) or ChannelSetting(workspace_id=workspace_id, name=name)
        row.value, row.ciphertext, row.updated_by_id, row.updated_at = "", encrypt(text), actor.id, now
        session.add(row)
        changed.append(name)
    session.flush()
    after_commit(session, lambda: channel_config.invalidate(workspace_id))  # this process: at once
    return changed


def reset(*, session: Session, actor: User, group: str) -> int:
    """Remove every stored setting of a channel (secrets included): it sends with the environment's again."""
    _require_admin(actor)
    names = [f.name for f in FIELDS if f.group == group]
    if not names:
        raise Invalid(f"Unknown channel {group!r}.")
    workspace_id = actor.workspace_id
    found = len(session.exec(select(ChannelSetting.id).where(
        ChannelSetting.workspace_id == workspace_id, col(ChannelSetting.name).in_(names))).all())
    session.exec(delete(ChannelSetting).where(
        col(ChannelSetting.workspace_id) == workspace_id, col(ChannelSetting.name).in_(names)))
    session.flush()
    after_commit(session, lambda: channel_config.invalidate(workspace_id))
    return found


# -- test messages -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TestTarget:
    key: str  # what the form sends: the component type whose channel is tested
    group: str
    label: str
    to_label: str


TEST_TARGETS: dict[str, TestTarget] = {t.key: t for t in (
    TestTarget("email", "email", "Email", "Email address"),
    TestTarget("text_sms", "provider", "SMS", "Phone number"),
    TestTarget("app_push", "provider", "App push", "Push token"),
    TestTarget("webhook", "webhook", "Webhook", "URL"),
    TestTarget("push_kafka", "kafka", "Kafka", "Topic"),
)}

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str  # what the page shows: the answer on success, the provider's error otherwise


def _check_to(target: TestTarget, to: str) -> str:
    to = to.strip()
    if not to:
        raise Invalid(f"Enter the {target.to_label.lower()} to send the test to.")
    if len(to) > 500 or "\n" in to or "\r" in to:
        raise Invalid(f"{target.to_label}: one line of at most 500 characters.")
    if target.key == "email" and ("@" not in parseaddr(to)[1] or " " in parseaddr(to)[1]):
        raise Invalid("Email address: an address like ann@example.com.")
    if target.key == "text_sms" and not _PHONE.match(to):
        raise Invalid("Phone number: digits, optionally with a leading +.")
    if target.key == "webhook" and not to.lower().startswith(("http://", "https://")):
        raise Invalid("URL: an http:// or https:// URL.")
    if target.key == "push_kafka" and not _TOPIC.match(to):
        raise Invalid("Topic: letters, digits, . _ and - only.")
    return to


def send_test(*, session: Session, actor: User, target: str, to: str) -> TestResult:
    """Send one test message through `target`'s channel with the workspace's settings as stored now. Refusals of
    the input raise; what the far side answers (or that it could not be reached) comes back as the result."""
    _require_admin(actor)
    spec = TEST_TARGETS.get(target)
    if spec is None:
        raise Invalid(f"Unknown channel {target!r}.")
    to = _check_to(spec, to)
    workspace = session.get(Workspace, actor.workspace_id)
    where = workspace.name if workspace is not None else "the workspace"
    channel_config.invalidate(actor.workspace_id)  # the settings as stored now, not as cached
    settings = channel_config.channel_settings(actor.workspace_id)
    text = f"Test message from {where}, sent by {actor.display_name} in Settings → Channels."
    message = Message(record_id=0, node_id=f"settings-test-{uuid.uuid4().hex[:12]}", customer_id=0,
                      channel=target, to=to, body=text, subject=f"Test message from {where}",
                      data={"test": True, "workspace": where})
    try:
        channel = build(target, settings)
    except Exception as err:  # a setting the channel cannot use (e.g. a Kafka option librdkafka refuses)
        return TestResult(False, f"The channel could not be set up: {err}")
    try:
        results = channel.send_batch([message])
    except Exception as err:  # channels never raise by contract; if one does, still words, not a traceback
        return TestResult(False, f"Sending failed: {type(err).__name__}: {err}")
    finally:
        close = getattr(channel, "close", None)
        if close is not None:
            close()
    result = results[0] if results else None
    if result is None:
        return TestResult(False, "The channel gave no answer.")
    if result.status == SendStatus.SUCCESS:
        detail = f" ({result.provider_message_id})" if result.provider_message_id else ""
        return TestResult(True, f"Sent to {to}{detail}.")
    if result.status == SendStatus.PENDING:
        return TestResult(True, f"Accepted by the provider for {to}; its delivery receipt comes later.")
    return TestResult(False, result.reason or "Failed, without a reason from the far side.")
