"""Dramatiq actors: thin, taking ids only; the work is in engine.runtime. Run the workers with

    dramatiq engine.actors --processes 2 --threads 4

`run_batch` walks one batch through the flow (engine/runtime/step.py). Its work is idempotent, so every
failure mode is answered by doing it again: an exception → Dramatiq's retry with backoff; Redis unreachable
(restarting) → the walk is retried in place until Redis answers again (up to REDIS_OUTAGE_S), so a Redis
restart neither loses the message nor burns its retries; another worker walking the same batch → retried
later without limit (it finishes the batch, or dies and its claim lapses).
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import Retry

from engine import crowd_actor  # noqa: F401  (the Generate Crowd actor: its queue is consumed here too)
from engine.runtime import gc_tuning, queues
from engine.runtime.broker import broker  # noqa: F401  (sets the broker before the actors are declared)
from engine.runtime.connection import REDIS_UNAVAILABLE, get_redis
from engine.runtime.redis_state import BootCheck
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import BatchBusy, run_step
from engine.runtime.store import RoundStore
from engine.settings import get_settings

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per provider call drowns the worker log
log = logging.getLogger("engine.actors")
gc_tuning.tune()
if isinstance(broker, RedisBroker):
    broker.add_middleware(BootCheck())  # a worker refuses another database's Redis (engine/runtime/redis_state.py)

MAX_RETRIES = 10
REDIS_OUTAGE_S = 300.0
T = TypeVar("T")


def _retry_when(retries: int, exception: BaseException) -> bool:
    return isinstance(exception, Retry) or retries < MAX_RETRIES


def through_redis_outages(work: Callable[[], T], *, limit: float = REDIS_OUTAGE_S) -> T:
    """Run `work`, again and again while Redis cannot be reached (connection refused, loading its data)."""
    deadline = time.monotonic() + limit
    delay = 0.1
    while True:
        try:
            return work()
        except REDIS_UNAVAILABLE as err:
            if time.monotonic() > deadline:
                raise
            log.warning("Redis unavailable (%s); retrying in %.1fs", err, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def enqueue_step(record_id: int, node_id: str, batch: str) -> None:
    run_batch.send(record_id, node_id, batch)


@dramatiq.actor(queue_name=queues.WALKS, retry_when=_retry_when, min_backoff=200, max_backoff=10_000,
                time_limit=600_000)
def run_batch(record_id: int, node_id: str, batch: str, resume: bool = False) -> None:
    store = RoundStore(get_redis())

    def work() -> None:
        if run_step(record_id, node_id, batch, store=store, resume=resume) == 0:
            finish_if_done(record_id, store=store)

    try:
        through_redis_outages(work)
    except BatchBusy as busy:
        raise Retry(str(busy), delay=min(2000, max(200, get_settings().engine_claim_ttl_ms // 3))) from None


@dramatiq.actor(queue_name="rounds", max_retries=MAX_RETRIES, min_backoff=200, max_backoff=10_000,
                time_limit=600_000)
def begin_round(record_id: int) -> None:
    through_redis_outages(lambda: start_round(record_id, enqueue=enqueue_step, store=RoundStore(get_redis())))


def resume_waiting(record_id: int, node_id: str, batch: str) -> None:
    run_batch.send(record_id, node_id, batch, True)


def rebind(new_broker: dramatiq.Broker) -> None:
    """Point the actors at another broker (tests start their own Redis)."""
    dramatiq.set_broker(new_broker)
    for actor in (run_batch, begin_round):
        actor.broker = new_broker
        new_broker.declare_actor(actor)
