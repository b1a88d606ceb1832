"""Failed sign-ins are throttled per username and per client address, in Redis.

Each key is a sorted set of attempt stamps scored by `engine.clock` time (so tests move a test clock instead of
waiting). An attempt takes a slot *before* the password is checked, in one MULTI: parallel guesses count
against the limit while bcrypt runs, so a burst cannot slip past it. A correct password gives its slot back;
a wrong one leaves it as a failure until it falls out of the window. The username key is keyed on the name as
typed (casefolded), known or not, so a locked name says nothing about whether the user exists.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

import redis

from engine import clock
from engine.errors import Invalid
from engine.runtime.connection import get_redis

WINDOW = timedelta(minutes=15)
#: failures per username within WINDOW before it is locked (the brief's 5 / 15 min)
MAX_USER_FAILURES = 5
#: failures per client address within WINDOW: higher, since an office behind one NAT shares an address
MAX_ADDRESS_FAILURES = 20
_PREFIX = "login:fail:"


def locked_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins. Try again in {minutes} {unit}."


@dataclass(frozen=True)
class Attempt:
    """A slot taken in each key; give it back with `succeeded`, keep it as a failure otherwise."""

    member: str
    keys: tuple[str, ...]


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    keys = [(f"{_PREFIX}user:{username.strip().casefold()}", MAX_USER_FAILURES)]
    if address:
        keys.append((f"{_PREFIX}addr:{address}", MAX_ADDRESS_FAILURES))
    return keys


def begin(username: str, address: str, *, client: redis.Redis | None = None) -> Attempt:
    """Take a slot for this attempt, or raise Invalid("… try again in N minutes") when either key is full."""
    r = client or get_redis()
    now = clock.now().timestamp()
    window = WINDOW.total_seconds()
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    keys = _keys(username, address)
    pipe = r.pipeline(transaction=True)
    for key, _limit in keys:
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.zadd(key, {member: now})
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.expire(key, int(window) + 60)  # housekeeping only: the window itself is read from the scores
    replies = pipe.execute()
    wait = 0.0
    for i, (_key, limit) in enumerate(keys):
        count, oldest = replies[i * 5 + 2], replies[i * 5 + 3]
        if count > limit:
            wait = max(wait, oldest[0][1] + window - now)
    if wait > 0:
        pipe = r.pipeline(transaction=True)
        for key, _limit in keys:
            pipe.zrem(key, member)
        pipe.execute()
        raise Invalid(locked_message(max(1, math.ceil(wait / 60))))
    return Attempt(member=member, keys=tuple(key for key, _ in keys))


def succeeded(attempt: Attempt, *, client: redis.Redis | None = None) -> None:
    """The password was right: this attempt was no failure, and the username's earlier failures are forgiven
    (the address keeps its own: one good login must not reset guessing at other names from there)."""
    r = client or get_redis()
    pipe = r.pipeline(transaction=True)
    for key in attempt.keys:
        pipe.zrem(key, attempt.member)
    pipe.delete(attempt.keys[0])
    pipe.execute()
