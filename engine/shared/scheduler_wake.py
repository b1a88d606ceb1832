"""A new round wakes the scheduler at once instead of at its next tick.

The scheduler hands rounds to the workers from an outbox it reads every 0.5 s (engine/scheduler.py), so a
published round waited 0.25 s on average, 0.5 s at worst, before anything happened. Now any transaction that
creates an execution record (publish, a start, a re-run, a test round, however a future path makes one) pushes
a token on WAKE_KEY once it commits, and the scheduler naps on that list with BLPOP instead of sleeping: it
ticks the moment the round is there. A lost token costs nothing but the old wait (the tick still comes every
0.5 s), so a Redis failure here is only logged. One listener, like trigger_watch: no path can forget it.
"""

import logging
import time

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.db import after_commit
from engine.models import ExecutionRecord
from engine.shared.quick_redis import quick_redis

WAKE_KEY = "scheduler:wake"
_QUEUED = "scheduler_wake_queued"
log = logging.getLogger(__name__)


def wake() -> None:
    """One token for the scheduler (at most one waits: a burst of rounds is one tick's work)."""
    try:
        pipe = quick_redis().pipeline(transaction=False)
        pipe.lpush(WAKE_KEY, 1)
        pipe.ltrim(WAKE_KEY, 0, 0)
        pipe.execute()
    except redis.RedisError as err:
        log.info("scheduler not woken (%s): the round starts at its next tick", err.__class__.__name__)


def nap(r: redis.Redis, seconds: float) -> None:
    """The scheduler's wait between ticks: `seconds`, or less when a new round wakes it. None after a tick
    that took its whole interval (BLPOP's timeout 0 would wait for ever)."""
    if seconds < 0.001:
        return
    try:
        r.blpop([WAKE_KEY], timeout=seconds)
    except redis.RedisError:  # the tick itself reports Redis's state; here only the rhythm matters
        time.sleep(seconds)


@event.listens_for(Session, "after_flush")
def _watch(session: Session, _context: object) -> None:
    if not session.info.get(_QUEUED) and any(isinstance(o, ExecutionRecord) for o in session.new):
        session.info[_QUEUED] = True
        after_commit(session, wake)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session, *_args: object) -> None:
    session.info.pop(_QUEUED, None)
