"""Redis state belongs to one database, and losing it is noticed, never read as "nothing left to do".

Binding. The database has an identity (one uuid, `DatabaseIdentity`, written by migration 0006). Redis keeps it
under `engine:database`. `bind` compares the two:
- Redis names this database → fine.
- Redis holds no round's state (empty, or only queues and heartbeats of workers that started first) → it is
  bound to this database.
- Redis names another database, or holds rounds' state but no identity while this database has never run a
  round (a new database next to an old `dump.rdb`) → its state is another database's. `engine.migrate
  --bind-redis` (the run command's first step, before any engine process starts) clears it — FLUSHDB of the
  REDIS_URL database index, which belongs to the engine alone — and says so loudly in its log. A long-running
  process (workers, scheduler, API) refuses to start instead (`ForeignRedis`): two installations pointed at one
  Redis must not wipe each other's live rounds each time one of them boots, and the fix is a human choice
  (`python -m engine.migrate --bind-redis` to take the Redis over, or another REDIS_URL).
- Redis holds rounds' state but no identity while this database has rounds: an installation from before
  identities existed (or a Redis restarted empty that engine processes wrote to since) → adopted, with a
  warning; rounds In Progress that visibly have state there (a pending set, counters, entries) get their marker.

Lost state. Every round that has Redis state carries a marker `rs:{record}`, written when the scheduler
dispatches it and with its pending set when it starts (refreshed, never created, when customers enter, and
hourly by the scheduler while the round runs). A round In Progress without its marker lost its Redis state
(Redis restarted empty, or from a snapshot older than the round): `finish_if_done` and the scheduler hand it to
`rounds.on_lost` (engine/runtime/rounds.py) instead of completing it, which
- re-dispatches a round that had not begun (an audience round whose entry is still open and that has no step
  row: nothing was walked, so nothing is lost — the outbox hands it to the workers again);
- otherwise ends it Abnormal End with the reason in words and the re-runnable failure kind `state_lost`.
"""

import logging
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

import redis
from dramatiq.middleware import Middleware, MiddlewareError
from sqlalchemy import exists, select
from sqlmodel import col

from engine.db import read_session
from engine.models import DatabaseIdentity, ExecutionRecord, pk_ids
from engine.runtime.connection import REDIS_UNAVAILABLE, get_redis
from engine.runtime.store import TTL
from engine.settings import get_settings
from engine.status import RecordStatus

log = logging.getLogger("engine.redis_state")

IDENTITY_KEY = "engine:database"
STATE_LOST_FAILURE = "state_lost"
LOST_REASON = "Engine state lost: Redis restarted without its data (its customers not yet walked were not sent)."


class ForeignRedis(RuntimeError):
    """Redis holds the engine state of another database."""


# ---------------------------------------------------------------- binding


@lru_cache
def _identity_of(url: str) -> str:
    with read_session() as session:
        row = session.get(DatabaseIdentity, 1)
    if row is None:
        raise RuntimeError("The database has no identity row: run `python -m engine.migrate` first.")
    return row.uuid


def database_identity() -> str:
    """This database's uuid (cached per DATABASE_URL)."""
    return _identity_of(get_settings().database_url)


def _has_rounds() -> bool:
    with read_session() as session:
        return bool(session.execute(select(exists().where(col(ExecutionRecord.id).is_not(None)))).scalar())


def bind(r: redis.Redis, *, clear: bool) -> str:
    """Check (and if need be write) Redis's binding to this database. Returns what happened: "ours",
    "bound" (Redis held no round's state), "adopted" (unbound state of a database with rounds) or "cleared" (another
    database's state, removed because `clear`). Raises ForeignRedis when the state is foreign and not `clear`."""
    mine = database_identity()
    raw = cast(bytes | None, r.get(IDENTITY_KEY))  # redis-py types replies Awaitable | Any
    theirs = raw.decode() if raw else None
    if theirs == mine:
        return "ours"
    if theirs is None and not _holds_rounds(r):
        r.set(IDENTITY_KEY, mine, nx=True)
        return _verify(r, mine, "bound")
    if theirs is None and _has_rounds():
        log.warning("Redis holds engine state without a database identity; this database has rounds, so it is "
                    "adopted as this database's (%s)", mine)
        r.set(IDENTITY_KEY, mine, nx=True)
        outcome = _verify(r, mine, "adopted")
        _mark_visible_rounds(r)
        return outcome
    whose = f"database {theirs}" if theirs else "no recorded database (this database has never run a round)"
    if not clear:
        raise ForeignRedis(
            f"Redis at {_where(r)} holds the engine state of {whose}, not of this database ({mine}). Refusing to "
            "start: run `python -m engine.migrate --bind-redis` to clear it for this database, or point REDIS_URL "
            "at another Redis or database index.")
    log.error("!!! Redis at %s holds the engine state of %s, not of this database (%s): clearing it "
              "(%d keys: batches, counters, send results, queues of the other database) !!!",
              _where(r), whose, mine, r.dbsize())
    r.flushdb()
    r.set(IDENTITY_KEY, mine)
    return "cleared"


def _holds_rounds(r: redis.Redis) -> bool:
    """Whether Redis holds any round's state (counters, pending batches, markers) — the keys filed under record
    ids. Queues, heartbeats and leases alone (workers that started first) do not make it someone else's."""
    return any(next(r.scan_iter(match=pattern, count=1000), None) is not None
               for pattern in ("ck:*", "pending:*", "rs:*"))


def _mark_visible_rounds(r: redis.Redis) -> None:
    """Adopting an unbound Redis (upgrade from before markers): rounds In Progress whose state is visibly there
    get their marker; the others are found lost by the scheduler."""
    with read_session() as session:
        ids = pk_ids(session.execute(select(col(ExecutionRecord.id)).where(
            col(ExecutionRecord.status) == RecordStatus.IN_PROGRESS)).scalars())
    for record_id in ids:
        if r.exists(f"pending:{record_id}", f"ck:{record_id}", f"entered:{record_id}"):
            mark(r, record_id)


def _verify(r: redis.Redis, mine: str, outcome: str) -> str:
    """Another process may have bound Redis between our read and our SET NX: the binding must be ours."""
    now = (cast(bytes | None, r.get(IDENTITY_KEY)) or b"").decode()
    if now != mine:
        raise ForeignRedis(f"Redis at {_where(r)} was bound to database {now} meanwhile, not to this one ({mine}).")
    return outcome


def _where(r: redis.Redis) -> str:
    kw = r.connection_pool.connection_kwargs
    return f"{kw.get('host', kw.get('path', '?'))}:{kw.get('port', '')}/{kw.get('db', 0)}"


def bind_at_boot(r: redis.Redis, *, clear: bool = False, wait_s: float = 60.0, required: bool = True) -> str | None:
    """`bind` for a process starting: waits up to `wait_s` for Redis to answer; when it does not, raises
    (`required`) or returns None (the API accepts receipts into its inbox without Redis)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            outcome = bind(r, clear=clear)
        except REDIS_UNAVAILABLE as err:  # BusyLoadingError is a ConnectionError
            if time.monotonic() >= deadline:
                if required:
                    raise
                log.warning("Redis unavailable at start (%s): its binding is checked by the scheduler", err)
                return None
            time.sleep(0.2)
            continue
        log.info("Redis state bound to database %s (%s)", database_identity(), outcome)
        return outcome


def rebind_if_empty(r: redis.Redis) -> bool:
    """The scheduler's per-tick check: a Redis restarted empty gets this database's identity back (the rounds
    it lost are found by their markers). True when it had lost it."""
    if r.exists(IDENTITY_KEY):
        return False
    r.set(IDENTITY_KEY, database_identity(), nx=True)
    log.warning("Redis had no database identity (new, or restarted without its data): bound to this database; "
                "running rounds without their state end Abnormal End")
    return True


# ---------------------------------------------------------------- per-round markers


def marker(record_id: int) -> str:
    return f"rs:{record_id}"


def mark(target: Any, record_id: int) -> None:
    """The round has Redis state (write it with the pending set: same pipeline or before it)."""
    target.set(marker(record_id), 1, ex=TTL)


def present(r: redis.Redis, record_id: int) -> bool:
    return bool(r.exists(marker(record_id)))


def missing(r: redis.Redis, record_ids: Iterable[int]) -> list[int]:
    """The rounds among `record_ids` whose marker is gone."""
    ids = list(record_ids)
    if not ids:
        return []
    pipe = r.pipeline(transaction=False)
    for record_id in ids:
        pipe.exists(marker(record_id))
    return [rid for rid, there in zip(ids, pipe.execute(), strict=True) if not there]


def refresh(r: redis.Redis, record_ids: Iterable[int]) -> None:
    """Keep the markers of long rounds (event-triggered rounds stay open for weeks) alive."""
    pipe = r.pipeline(transaction=False)
    for record_id in record_ids:
        pipe.expire(marker(record_id), TTL)
    pipe.execute()


class BootCheck(Middleware):
    """A worker process refuses to start on another database's Redis (binds an empty one)."""

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        try:
            bind_at_boot(get_redis())
        except ForeignRedis as err:
            raise BootRefused(str(err)) from None


class BootRefused(MiddlewareError):
    """Raised to Dramatiq: a middleware error stops the worker's boot instead of being logged and ignored."""
