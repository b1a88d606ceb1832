"""One clock for the whole engine, so tests can move time instead of waiting for it.

In-process tests replace it with `set_clock`. Tests that run the engine's processes (scheduler, workers) as
subprocesses point ENGINE_CLOCK_FILE at a file holding an ISO-8601 time: every process then reads "now" from
it (an empty or missing file means the wall clock)."""

import os
from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] | None = None


def now() -> datetime:
    """Aware UTC 'now' (SQLModel stores aware datetimes, returned in UTC)."""
    if _now is not None:
        return _now()
    path = os.environ.get("ENGINE_CLOCK_FILE")
    if path:
        return file_time(path) or datetime.now(UTC)
    return datetime.now(UTC)


def file_time(path: str) -> datetime | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, simulations); None restores the wall clock."""
    global _now
    _now = fn
