"""Messages a worker holds when Redis goes away are not lost when its consumers restart (engine/runtime/wake.py).

Dramatiq restarts a consumer after a connection error. The delay queue's messages it had fetched were held in
memory (Dramatiq empties that queue on the error) and the messages prefetched but not yet handed to a thread
went with the old consumer; in Redis they stay "fetched" by this live process, so neither Dramatiq's dead-worker
maintenance nor the engine's rescue (engine/runtime/rescue.py: they are still referenced) would ever give them
back: a round whose walk was such a message never ended. A real Redis on its append-only file, SIGKILLed and
restarted, and a real Dramatiq worker."""

import threading

import dramatiq
import dramatiq.worker
import pytest
import redis
from dramatiq import Worker

from engine.runtime.wake import WakeOnEnqueue, WakingRedisBroker
from tests.engine.runtime.waking_worker import stop, until
from tests.redis_process import RedisProcess

NS = "restart"




def _held(client: redis.Redis, broker: WakingRedisBroker, queue: str) -> set[bytes]:
    """Message ids this process has fetched from `queue` and not acknowledged (Dramatiq's per-worker ack set)."""
    return client.smembers(f"{NS}:__acks__.{broker.broker_id}.{queue}")


@pytest.fixture
def broker(persistent_redis: RedisProcess, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setattr(dramatiq.worker, "CONSUMER_RESTART_DELAY_SECS", 0.2)
    b = WakingRedisBroker(url=persistent_redis.url, namespace=NS)
    b.add_middleware(WakeOnEnqueue())
    yield b
    b.close()




def test_a_delayed_message_held_when_redis_restarts_still_runs(broker: WakingRedisBroker,
                                                               persistent_redis: RedisProcess) -> None:
    ran = threading.Event()

    @dramatiq.actor(broker=broker, queue_name="later_q", max_retries=0)
    def later() -> None:
        ran.set()

    client = redis.Redis.from_url(persistent_redis.url)
    worker = Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        later.send_with_options(delay=3000)
        assert until(lambda: bool(_held(client, broker, "later_q.DQ")), 10), "the delay queue never fetched it"
        held = next(iter(_held(client, broker, "later_q.DQ")))
        assert until(lambda: persistent_redis.appended(held), 10), "the fetch never reached the append-only file"
        persistent_redis.kill()
        persistent_redis.start()  # from its append-only file: the message and its "fetched by" are still there
        assert ran.wait(30), "the delayed message held when Redis died never ran"
        assert until(lambda: not _held(client, broker, "later_q.DQ"), 10)
    finally:
        stop(worker, broker, client)


def test_messages_already_handed_to_the_worker_when_redis_restarts_run_once(broker: WakingRedisBroker,
                                                                persistent_redis: RedisProcess) -> None:
    """One thread, busy, with a second message waiting for it: both were handed to the worker before Redis died,
    so they run once each (a restart hands back only what it dropped: nothing runs twice)."""
    release = threading.Event()
    done: list[int] = []

    @dramatiq.actor(broker=broker, queue_name="busy_q", max_retries=0)
    def job(n: int) -> None:
        if n == 0:
            release.wait(30)
        done.append(n)

    client = redis.Redis.from_url(persistent_redis.url)
    worker = Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        for n in range(4):
            job.send(n)
        assert until(lambda: len(_held(client, broker, "busy_q")) == 2, 10), "the consumer never prefetched"
        held = _held(client, broker, "busy_q")
        assert until(lambda: all(persistent_redis.appended(i) for i in held), 10), "not in the append-only file"
        persistent_redis.kill()
        persistent_redis.start()
        assert until(lambda: client.ping(), 10)
        release.set()
        assert until(lambda: len(done) >= 4 and not _held(client, broker, "busy_q")
                      and not client.llen(f"{NS}:busy_q"), 30), f"ran {sorted(done)} of 0-3"
        assert sorted(done) == [0, 1, 2, 3]
    finally:
        stop(worker, broker, client)
