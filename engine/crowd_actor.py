"""The Generate Crowd actor: builds the audience of an accepted request (engine/services/crowds.py) on the
workers, off the page's request, so a crowd of a million customers never blocks the UI. Imported by
engine/actors.py, so `dramatiq engine.actors` consumes its queue.

Why an actor and not a Reflex background task: the work survives the browser tab closing and the web server
restarting (Dramatiq redelivers an unacknowledged message; the operation is redone from scratch since nothing
of an unfinished attempt was committed), it runs on the workers' cores rather than the web server's event
loop, and every user sees the same progress (Redis) and outcome (the operation row).
"""

import logging

import dramatiq

from engine.runtime.broker import broker  # noqa: F401  (sets the broker before the actor is declared)
from engine.services import crowds

TIME_LIMIT_MS = 30 * 60 * 1000
log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="crowds", max_retries=3, min_backoff=500, max_backoff=10_000, time_limit=TIME_LIMIT_MS)
def generate_crowd(operation_id: int) -> None:
    crowds.run_operation(operation_id=operation_id)


def enqueue(operation_id: int) -> None:
    """Hand an accepted operation to the workers at once, and stamp it sent (the scheduler's outbox sweep sends
    what a crash left unstamped: crowds.dispatch_waiting). If the broker cannot take it, the operation is
    recorded as failed, so the page says so now rather than the sweep retrying it later."""
    try:
        generate_crowd.send(operation_id)
    except Exception as err:  # noqa: BLE001 — the broker (Redis) refused: say so on the operation
        crowds.mark_failed(operation_id, f"The crowd could not be queued: {err}")
        raise
    try:
        crowds.mark_dispatched(operation_id)
    except Exception:  # noqa: BLE001 — it is queued: at worst the sweep sends it once more (harmless)
        log.exception("Generate Crowd operation %s queued but not stamped", operation_id)
