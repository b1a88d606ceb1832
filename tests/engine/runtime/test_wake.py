"""Idle consumers are woken by an enqueue (engine/runtime/wake.py), on a real Redis and a real Dramatiq worker.

The worker polls only every 12 s here: a message must still run within seconds of being enqueued, which only
the wake can do. "Idle" is observed, not slept for: Redis lists the consumer's connection as blocked in BLPOP.
"""

import threading

import dramatiq
import pytest
import redis
from dramatiq import Worker

from engine.runtime.wake import WAKE_TOKENS, WakeOnEnqueue, WakingRedisBroker, wake_key
from tests.engine.runtime.waking_worker import stop, until

POLL_MS = 12_000


def _blocked_in_blpop(client: redis.Redis) -> bool:
    return any(c.get("cmd") == "blpop" for c in client.client_list())




@pytest.fixture
def waking_broker(redis_url: str):  # noqa: ANN201
    broker = WakingRedisBroker(url=redis_url, namespace="waketest")
    broker.add_middleware(WakeOnEnqueue())
    yield broker
    broker.close()


def test_an_idle_worker_runs_a_message_as_soon_as_it_is_enqueued(waking_broker: WakingRedisBroker,
                                                                 redis_url: str) -> None:
    ran = threading.Event()

    @dramatiq.actor(broker=waking_broker, queue_name="wake_q", max_retries=0)
    def touch() -> None:
        ran.set()

    worker = Worker(waking_broker, worker_timeout=POLL_MS, worker_threads=1)
    worker.start()
    try:
        client = redis.Redis.from_url(redis_url)
        assert until(lambda: _blocked_in_blpop(client), 20), "the idle consumer never waited on its wake list"
        touch.send()
        # without the wake the message waits for the next poll, 12 s away
        assert ran.wait(6), "the enqueued message did not wake the idle worker"
    finally:
        stop(worker, waking_broker, client)




def test_wake_tokens_stay_bounded_when_nobody_waits(waking_broker: WakingRedisBroker, redis_url: str) -> None:
    @dramatiq.actor(broker=waking_broker, queue_name="wake_bounded", max_retries=0)
    def noop() -> None:
        pass

    for _ in range(WAKE_TOKENS * 3):
        noop.send()
    client = redis.Redis.from_url(redis_url)
    assert client.llen(wake_key(waking_broker, "wake_bounded")) == WAKE_TOKENS
    assert client.llen("waketest:wake_bounded") == WAKE_TOKENS * 3  # every message is still queued


def test_only_the_walks_queue_is_polled_quickly_and_a_quiet_queue_still_wakes_at_once(redis_url: str) -> None:
    """The walks' queue (and its delay queue) polls every worker timeout — its dead-worker pass brings a killed
    worker's batches back; the other queues wait up to `quiet_poll_ms` when idle, yet an enqueue on one of them
    runs at once (the wake), even with a 12 s quiet poll."""
    broker = WakingRedisBroker(url=redis_url, namespace="wakequiet", walk_queues=frozenset({"walks"}),
                               quiet_poll_ms=POLL_MS)
    broker.add_middleware(WakeOnEnqueue())
    try:
        assert broker.consume("walks", 1, 50).timeout == 50
        assert broker.consume("walks.DQ", 1, 50).timeout == 50
        assert broker.consume("rounds", 1, 50).timeout == POLL_MS
        assert broker.consume("rounds.DQ", 1, 50).timeout == POLL_MS
        ran = threading.Event()

        @dramatiq.actor(broker=broker, queue_name="rounds", max_retries=0)
        def begin() -> None:
            ran.set()

        worker = Worker(broker, worker_timeout=50, worker_threads=1)
        worker.start()
        client = redis.Redis.from_url(redis_url)
        try:
            assert until(lambda: _blocked_in_blpop(client), 20), "the idle consumer never waited on its wake list"
            begin.send()
            assert ran.wait(6), "a message on a quietly polled queue waited for its poll"
        finally:
            stop(worker, broker, client)
    finally:
        broker.close()
