"""Dramatiq actors: thin, taking ids only; the work is in engine.runtime. Run the workers with

    dramatiq engine.actors --processes 2 --threads 4
"""

import logging

import dramatiq

from engine.runtime.broker import broker  # noqa: F401  (sets the broker before the actors are declared)
from engine.runtime.connection import get_redis
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per provider call drowns the worker log


def enqueue_step(record_id: int, node_id: str, batch: str) -> None:
    run_batch.send(record_id, node_id, batch)


@dramatiq.actor(queue_name="steps", max_retries=10, min_backoff=200, max_backoff=10_000, time_limit=600_000)
def run_batch(record_id: int, node_id: str, batch: str, resume: bool = False) -> None:
    store = RoundStore(get_redis())
    if run_step(record_id, node_id, batch, enqueue=enqueue_step, store=store, resume=resume) == 0:
        finish_if_done(record_id, store=store)


@dramatiq.actor(queue_name="rounds", max_retries=10, min_backoff=200, max_backoff=10_000, time_limit=600_000)
def begin_round(record_id: int) -> None:
    start_round(record_id, enqueue=enqueue_step, store=RoundStore(get_redis()))


def resume_waiting(record_id: int, node_id: str, batch: str) -> None:
    run_batch.send(record_id, node_id, batch, True)


def rebind(new_broker: dramatiq.Broker) -> None:
    """Point the actors at another broker (tests start their own Redis)."""
    dramatiq.set_broker(new_broker)
    for actor in (run_batch, begin_round):
        actor.broker = new_broker
        new_broker.declare_actor(actor)
