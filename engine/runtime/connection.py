"""The Redis connection from REDIS_URL (one client per process, thread-safe pool)."""

from functools import lru_cache

import redis

from engine.settings import get_settings


@lru_cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url)


def reset_redis() -> None:
    get_redis.cache_clear()
