"""The Dramatiq broker, set once at import: Redis (REDIS_URL). Tests run real workers on a real Redis too.

How a dead worker's batches come back (Dramatiq 2.x, brokers/redis.py + redis/dispatch.lua), and why the
defaults in engine/settings.py give about 11 s:
- Every broker command (fetch, enqueue, ack...) runs dispatch.lua, which first writes the process's heartbeat
  (ZADD `dramatiq:__heartbeats__` now broker_id). A worker's consumer for each queue and delay queue fetches
  whenever it holds fewer messages than its prefetch, and an idle one polls every ENGINE_POLL_MS (50 ms; it is
  woken sooner by an enqueue, engine/runtime/wake.py) — the walks' queue; the rounds' and crowds' queues, whose
  messages are few, every ENGINE_QUIET_POLL_MS (500 ms). A
  busy process still heartbeats: its delay-queue consumers (prefetch 1,000 × threads) never fill up. Silence
  means a dead or frozen process (the supervised-engine test samples the heartbeats while walks run).
- On DRAMATIQ_MAINTENANCE_CHANCE per million commands on a queue, dispatch.lua moves that queue's fetched but
  unacknowledged messages of every process silent for DRAMATIQ_HEARTBEAT_TIMEOUT_MS back to the queue. At
  100,000 (10 %) a pass on `steps` comes within a fraction of a second of polling; it costs one ZRANGEBYSCORE
  on a handful of entries (and one KEYS per silent process, once, to drop it from the heartbeats).
- The redelivered walk then finds the dead process's batch claim (ENGINE_CLAIM_TTL_MS, 5 s, refreshed every
  third of it): it has lapsed by then (5 s < 10 s), so the walk starts at once; were it still held, the walk
  is retried every third of the TTL (engine/actors.py).
A live process falsely declared dead costs nothing but a wasted delivery: its claims are kept alive by their
own thread, so the second delivery waits ("busy") and then finds the batch done; every send also has its
per-customer reservation (store.reserve), so nothing is ever sent twice.
"""

import logging
import multiprocessing
import os
import signal
import threading
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from engine.runtime import queues
from engine.runtime.wake import WakeOnEnqueue, WakingRedisBroker
from engine.settings import get_settings

#: the walks' queue: its idle consumers poll every ENGINE_POLL_MS, the others' every ENGINE_QUIET_POLL_MS
#: (engine/runtime/wake.py says why)
WALK_QUEUES = frozenset({queues.WALKS})


class PollInterval(Middleware):
    """An idle worker polls its queues at least every ENGINE_POLL_MS (Dramatiq's default backs off to a
    second, which a behaviour event would wait). `dramatiq_worker_timeout` in the environment wins."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if "dramatiq_worker_timeout" not in os.environ:
            worker.worker_timeout = get_settings().engine_poll_ms


class ParentWatch(Middleware):
    """A worker process whose `dramatiq` parent died (SIGKILL, OOM) stops itself gracefully — finishing its walks,
    handing back what it prefetched — instead of walking on as an orphan beside the replacement that the
    supervisor starts. Only in processes forked by the `dramatiq` command (not in tests' in-process workers)."""

    interval_s = 1.0

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if multiprocessing.parent_process() is None:
            return
        parent = os.getppid()
        threading.Thread(target=self._watch, args=(parent,), name="parent-watch", daemon=True).start()

    def _watch(self, parent: int) -> None:
        while os.getppid() == parent:
            time.sleep(self.interval_s)
        logging.getLogger("engine.broker").warning("dramatiq parent %s is gone: stopping this worker process", parent)
        os.kill(os.getpid(), signal.SIGTERM)


def redis_broker(url: str | None = None) -> RedisBroker:
    settings = get_settings()
    broker = WakingRedisBroker(
        url=url or settings.redis_url, heartbeat_timeout=settings.dramatiq_heartbeat_timeout_ms,
        maintenance_chance=settings.dramatiq_maintenance_chance, walk_queues=WALK_QUEUES,
        quiet_poll_ms=settings.engine_quiet_poll_ms)
    broker.add_middleware(PollInterval())
    broker.add_middleware(WakeOnEnqueue())
    broker.add_middleware(ParentWatch())
    return broker


def make_broker() -> dramatiq.Broker:
    broker = redis_broker()
    dramatiq.set_broker(broker)
    return broker


broker = make_broker()
