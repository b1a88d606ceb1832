"""The Dramatiq broker, chosen once at import: Redis (REDIS_URL) normally, a StubBroker when
DRAMATIQ_BROKER=stub (unit tests that run actors in-process)."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from engine.settings import get_settings


def make_broker() -> dramatiq.Broker:
    if os.environ.get("DRAMATIQ_BROKER") == "stub":
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    else:
        broker = RedisBroker(url=get_settings().redis_url)
    dramatiq.set_broker(broker)
    return broker


broker = make_broker()
