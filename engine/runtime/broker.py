"""The Dramatiq broker, chosen once at import: Redis (REDIS_URL) normally, a StubBroker when
DRAMATIQ_BROKER=stub (unit tests that run actors in-process).

A worker process that dies (SIGKILL, OOM, power) leaves its fetched messages in its Redis ack set; another
worker's broker moves them back to the queue once the dead one has been silent for
DRAMATIQ_HEARTBEAT_TIMEOUT_MS (checked on DRAMATIQ_MAINTENANCE_CHANCE per million broker commands)."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from engine.settings import get_settings


class PollInterval(Middleware):
    """An idle worker polls its queues at least every ENGINE_POLL_MS (Dramatiq's default backs off to a
    second, which a behaviour event would wait). `dramatiq_worker_timeout` in the environment wins."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if "dramatiq_worker_timeout" not in os.environ:
            worker.worker_timeout = get_settings().engine_poll_ms


def redis_broker(url: str | None = None) -> RedisBroker:
    settings = get_settings()
    broker = RedisBroker(url=url or settings.redis_url, heartbeat_timeout=settings.dramatiq_heartbeat_timeout_ms,
                         maintenance_chance=settings.dramatiq_maintenance_chance)
    broker.add_middleware(PollInterval())
    return broker


def make_broker() -> dramatiq.Broker:
    if os.environ.get("DRAMATIQ_BROKER") == "stub":
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    else:
        broker = redis_broker()
    dramatiq.set_broker(broker)
    return broker


broker = make_broker()
