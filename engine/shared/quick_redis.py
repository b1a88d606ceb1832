"""The Redis client of side effects that must never hold anything up (the trigger index, the scheduler's wake,
the API's rate limit): short timeouts, one client per URL. Without Redis they only get slower, so a call that
fails is theirs to log and skip."""

from functools import lru_cache

import redis

from engine.settings import get_settings


@lru_cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)


def quick_redis() -> redis.Redis:
    return _client(get_settings().redis_url)
