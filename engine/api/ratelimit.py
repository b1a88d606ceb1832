"""Per-API-key rate limit: API_RATE_LIMIT requests per API_RATE_WINDOW_S seconds, a fixed window counted in Redis.

Counted in Redis, so every API process (uvicorn workers, hosts) shares one budget per key; the window comes from
`engine.clock`, so tests move time instead of waiting. The key is counted by its SHA-256 (never stored in clear).
Redis unavailable: requests pass (logged) — like the rest of the events path, Redis restarting never refuses
events (docs/ARCHITECTURE.md, "Nothing refused while Redis is down").
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import cast

import redis

from engine import clock
from engine.settings import get_settings
from engine.shared.quick_redis import quick_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int  # 0 = no limit
    remaining: int
    retry_after: int  # seconds until the window ends (whole, at least 1) when refused


def take(key: str) -> Verdict:
    """Count one request of `key` in the current window; refused once the window's count exceeds the limit."""
    settings = get_settings()
    limit, window = settings.api_rate_limit, max(1, settings.api_rate_window_s)
    if limit <= 0:
        return Verdict(True, 0, 0, 0)
    now = clock.now().timestamp()
    slot = int(now // window)
    name = f"am:ratelimit:{hashlib.sha256(key.encode()).hexdigest()[:32]}:{window}:{slot}"
    try:
        pipe = quick_redis().pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count = int(cast(list[int], pipe.execute())[0])
    except (redis.ConnectionError, redis.TimeoutError) as err:  # down or loading its file: let the request in
        log.warning("rate limit not counted (Redis unavailable: %s)", err)
        return Verdict(True, limit, limit, 0)
    retry_after = max(1, math.ceil((slot + 1) * window - now))
    return Verdict(count <= limit, limit, max(0, limit - count), retry_after)
