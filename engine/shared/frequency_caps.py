"""What the frequency caps' service (Settings) and the runtime's check share: which channels a cap can limit, and
how a rule reads as a sentence (the Settings list and a capped customer's reason say the same words)."""

from engine.components.category import Category
from engine.components.registry import COMPONENTS
from engine.models.frequency_cap import ANY_CHANNEL

ANY_LABEL = "Any channel"


def touch_channels() -> dict[str, str]:
    """Capped channels: the Marketing Touch component types (type → label), in palette order. Data Push
    components (webhook, Kafka) are not messages to a customer and are never capped."""
    return {t: c.label for t, c in COMPONENTS.items() if c.category == Category.TOUCH and c.sends}


def channel_label(channel: str) -> str:
    return ANY_LABEL if channel == ANY_CHANNEL else touch_channels().get(channel, channel)


def describe(channel: str, max_messages: int, window_days: int) -> str:
    """E.g. "at most 3 Text SMS per customer in 7 days", "at most 5 messages of any channel per customer in 1 day"."""
    if channel == ANY_CHANNEL:
        what = f"{max_messages} message{'s' if max_messages != 1 else ''} of any channel"
    else:
        what = f"{max_messages} {channel_label(channel)}"
    days = "1 day" if window_days == 1 else f"{window_days} days"
    return f"at most {what} per customer in {days}"
