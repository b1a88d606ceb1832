"""Helpers for tests that run a real Dramatiq worker in-process on the engine's waking broker
(engine/runtime/wake.py): wait for an observable condition, and stop the worker without waiting out its poll."""

import threading
import time
from collections.abc import Callable

import redis
from dramatiq import Worker

from engine.runtime.wake import WakingRedisBroker, wake_key


def until(condition: Callable[[], object], timeout: float) -> bool:
    """True as soon as `condition()` is truthy; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def stop(worker: Worker, broker: WakingRedisBroker, client: redis.Redis) -> None:
    """Stop the worker without waiting out a long poll: wake its consumers until they have seen the stop."""
    stopping = threading.Thread(target=worker.stop)
    stopping.start()
    while stopping.is_alive():
        for queue in broker.get_declared_queues() | broker.get_declared_delay_queues():
            client.lpush(wake_key(broker, queue), 1)
        stopping.join(0.05)
