"""The one function the runtime calls to get a channel: `channel_for(component_type, workspace_id)`, built from
the workspace's channel settings (engine/channels/config.py: the environment's, overridden by what its admin
stored).

Channels are created once per process and shared by the worker's threads (HTTP clients keep their
connections, Kafka producers are reused): one per component type and settings key, so workspaces without
overrides share the environment's. When a workspace's settings change, its next send builds a new channel; the
old one is closed RETIRE_AFTER_S later (a send still using it finishes first). `reset_channels()` drops them
all, e.g. after settings change in tests.
"""

import threading
import time
from collections import defaultdict

from engine.channels.base import Channel, Message, SendResult, SendStatus
from engine.channels.config import channel_config
from engine.channels.email import SmtpEmailChannel
from engine.channels.kafka import KafkaChannel
from engine.channels.provider import PROVIDER_CHANNELS, ProviderChannel
from engine.channels.webhook import WebhookChannel
from engine.settings import Settings

CHANNEL_TYPES = ("email", "webhook", "push_kafka", *PROVIDER_CHANNELS)

#: a replaced channel is closed this long after its workspace's settings changed (its last sends finish first)
RETIRE_AFTER_S = 120.0

_channels: dict[tuple[str, str], Channel] = {}  # (component type, settings key) → channel
_keys: dict[tuple[str, int | None], str] = {}  # (component type, workspace) → the settings key it last used
_retired: list[tuple[float, Channel]] = []
_lock = threading.Lock()


def build(component_type: str, settings: Settings) -> Channel:
    """A new channel for `component_type` from `settings` (the caller owns it: close it when done)."""
    if component_type == "email":
        return SmtpEmailChannel.from_settings(settings)
    if component_type == "webhook":
        return WebhookChannel.from_settings(settings)
    if component_type == "push_kafka":
        return KafkaChannel.from_settings(settings)
    if component_type in PROVIDER_CHANNELS:
        return ProviderChannel.from_settings(component_type, settings)
    raise KeyError(f"no channel for component type {component_type!r}")


def channel_for(component_type: str, workspace_id: int | None = None) -> Channel:
    """The channel that delivers `component_type`'s messages for a workspace (None: with the environment's
    settings); KeyError for a type that sends nothing."""
    if component_type not in CHANNEL_TYPES:
        raise KeyError(f"no channel for component type {component_type!r}")
    config = channel_config(workspace_id)
    key = (component_type, config.key)
    channel = _channels.get(key)
    if channel is not None and _keys.get((component_type, workspace_id)) == config.key:
        return channel
    closing: list[Channel] = []
    with _lock:
        channel = _channels.get(key)
        if channel is None:
            channel = _channels[key] = build(component_type, config.settings)
        old = _keys.get((component_type, workspace_id))
        _keys[(component_type, workspace_id)] = config.key
        in_use = {used for (kind, _workspace), used in _keys.items() if kind == component_type}
        if old is not None and old != config.key and old not in in_use:
            stale = _channels.pop((component_type, old), None)
            if stale is not None:
                _retired.append((time.monotonic(), stale))
        now = time.monotonic()
        while _retired and now - _retired[0][0] >= RETIRE_AFTER_S:
            closing.append(_retired.pop(0)[1])
    for stale in closing:
        _close(stale)
    return channel


def send(messages: list[Message], workspace_id: int | None = None) -> list[SendResult]:
    """Send messages of any channels: grouped by `message.channel`, one `send_batch` per channel.
    A message of an unknown channel comes back FAILED (it is a flow bug, not a reason to stop the worker)."""
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_channel[message.channel].append(message)
    results: list[SendResult] = []
    for name, group in by_channel.items():
        try:
            channel = channel_for(name, workspace_id)
        except KeyError:
            results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=f"unknown channel {name!r}")
                           for m in group)
            continue
        results.extend(channel.send_batch(group))
    return results


def _close(channel: Channel) -> None:
    close = getattr(channel, "close", None)
    if close is not None:
        close()


def reset_channels() -> None:
    """Close and forget the cached channels (the next `channel_for` rebuilds them from settings)."""
    with _lock:
        channels = list(_channels.values()) + [c for _at, c in _retired]
        _channels.clear()
        _keys.clear()
        _retired.clear()
    for channel in channels:
        _close(channel)
