"""One clock for the whole engine, so tests can move time instead of waiting for it."""

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] | None = None


def now() -> datetime:
    """Aware UTC 'now' (SQLModel stores aware datetimes, returned in UTC)."""
    if _now is not None:
        return _now()
    return datetime.now(UTC)


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, simulations); None restores the wall clock."""
    global _now
    _now = fn
