"""The Redis connection from REDIS_URL (one client per process, thread-safe pool)."""

from functools import lru_cache

import redis

from engine.settings import get_settings

# Redis cannot be reached: refused, timed out, or loading its append-only file (BusyLoadingError is a
# ConnectionError). Work that meets one is run again once Redis answers (engine/actors.py); it is never a
# component's failure.
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


@lru_cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url)


def reset_redis() -> None:
    get_redis.cache_clear()
