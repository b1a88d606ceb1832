"""The one function the runtime calls to get a channel: `channel_for(component_type)`, built from settings.

Channels are created once per process and shared by the worker's threads (HTTP clients keep their
connections, Kafka producers are reused). `reset_channels()` drops them, e.g. after settings change in tests.
"""

import threading
from collections import defaultdict

from engine.channels.base import Channel, Message, SendResult, SendStatus
from engine.channels.email import SmtpEmailChannel
from engine.channels.kafka import KafkaChannel
from engine.channels.provider import PROVIDER_CHANNELS, ProviderChannel
from engine.channels.webhook import WebhookChannel
from engine.settings import get_settings

CHANNEL_TYPES = ("email", "webhook", "push_kafka", *PROVIDER_CHANNELS)

_channels: dict[str, Channel] = {}
_lock = threading.Lock()


def _build(component_type: str) -> Channel:
    settings = get_settings()
    if component_type == "email":
        return SmtpEmailChannel.from_settings(settings)
    if component_type == "webhook":
        return WebhookChannel.from_settings(settings)
    if component_type == "push_kafka":
        return KafkaChannel.from_settings(settings)
    if component_type in PROVIDER_CHANNELS:
        return ProviderChannel.from_settings(component_type, settings)
    raise KeyError(f"no channel for component type {component_type!r}")


def channel_for(component_type: str) -> Channel:
    """The channel that delivers `component_type`'s messages (KeyError for a type that sends nothing)."""
    channel = _channels.get(component_type)
    if channel is None:
        with _lock:
            channel = _channels.get(component_type)
            if channel is None:
                channel = _channels[component_type] = _build(component_type)
    return channel


def send(messages: list[Message]) -> list[SendResult]:
    """Send messages of any channels: grouped by `message.channel`, one `send_batch` per channel.
    A message of an unknown channel comes back FAILED (it is a flow bug, not a reason to stop the worker)."""
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_channel[message.channel].append(message)
    results: list[SendResult] = []
    for name, group in by_channel.items():
        try:
            channel = channel_for(name)
        except KeyError:
            results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=f"unknown channel {name!r}")
                           for m in group)
            continue
        results.extend(channel.send_batch(group))
    return results


def reset_channels() -> None:
    """Close and forget the cached channels (the next `channel_for` rebuilds them from settings)."""
    with _lock:
        channels = list(_channels.values())
        _channels.clear()
    for channel in channels:
        close = getattr(channel, "close", None)
        if close is not None:
            close()
