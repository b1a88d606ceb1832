"""Idle workers woken by the enqueue instead of polling for it (behaviour-event latency).

Dramatiq's Redis consumer sleeps between empty fetches (up to ENGINE_POLL_MS), so a message enqueued just
after a fetch waits for the next poll: half the poll on average, all of it at worst — most of an event's
time to its first touch. Here every enqueue also pushes a token onto the queue's wake list (one LPUSH + LTRIM
in a pipeline) and an idle consumer waits on that list with BLPOP for at most the same ENGINE_POLL_MS: it
fetches the moment a message arrives, and still fetches every ENGINE_POLL_MS when nothing comes, so heartbeats
and the dead-worker maintenance (engine/runtime/broker.py) behave as before.

No wake is ever lost: a token pushed between a consumer's empty fetch and its BLPOP is still in the list when
the BLPOP comes. A stale token (its message already fetched by another consumer) costs one empty fetch.

A consumer restarted after a connection error (Redis restarting) hands back what its predecessor held and
Dramatiq dropped: the delay queue's fetched messages (Dramatiq empties its in-memory delay queue on the error)
and anything fetched but not yet handed to the worker. In Redis they stay "fetched" by this live process, so
neither the dead-worker maintenance nor the engine's rescue (engine/runtime/rescue.py) would give them back: a
walk retried with a delay (another worker held the batch, Dramatiq's backoff) was lost and its round never
ended. Messages already handed to the worker's threads are still theirs (acknowledged through the new
consumer) and are not handed back: nothing runs twice because of a restart.
"""

import time
from typing import Any, cast

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, q_name
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message
from dramatiq.middleware import Middleware

#: tokens kept per queue: enough to wake every consumer of a busy burst, bounded when nobody waits
WAKE_TOKENS = 16


def wake_key(broker: RedisBroker, queue_name: str) -> str:
    return f"{broker.namespace}:{queue_name}.wake"


class WakeOnEnqueue(Middleware):
    """After each enqueue, a token on the queue's wake list (the delay queue's for a delayed message)."""

    def after_enqueue(self, broker: dramatiq.Broker, message: Message[Any], delay: int | None) -> None:
        if not isinstance(broker, RedisBroker):
            return
        key = wake_key(broker, message.queue_name)
        pipe = broker.client.pipeline(transaction=False)
        pipe.lpush(key, 1)
        pipe.ltrim(key, 0, WAKE_TOKENS - 1)
        pipe.execute()


class WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, except that an idle wait is a BLPOP on the wake list, not a sleep."""

    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]  # unannotated
        #: message ids to put back on the queue before fetching (what the consumer before this one left stranded)
        self.hand_back: list[str] = []
        #: Dramatiq message id → Redis message id of the messages handed to the worker and not acknowledged
        self.handed: dict[str, str] = {}
        #: ended by a lost connection (Dramatiq then drops its delay queue)
        self.lost = False

    def stranded(self) -> list[str]:
        """What this consumer leaves stranded when it is replaced (Redis's message ids, as the broker's acks
        hold them): fetched, not yet handed to the worker, and, from a delay queue after a lost connection,
        every message it handed over (they sat in the dropped in-memory delay queue until due; a due one was
        enqueued and acknowledged, so it is no longer held)."""
        ids = list(self.hand_back)
        ids += [Message.decode(data).options["redis_message_id"] for data in self.message_cache if data is not None]
        if self.lost and self.queue_name.endswith(".DQ"):
            ids += sorted(self.handed.values())
        return ids

    def ack(self, message: MessageProxy) -> None:
        self.handed.pop(message.message_id, None)
        super().ack(message)  # type: ignore[no-untyped-call]  # dramatiq is unannotated

    def nack(self, message: MessageProxy) -> None:
        self.handed.pop(message.message_id, None)
        super().nack(message)  # type: ignore[no-untyped-call]  # dramatiq is unannotated

    def __next__(self) -> MessageProxy | None:
        try:
            if self.hand_back:
                self.broker.do_requeue(self.queue_name, *self.hand_back)
                self.hand_back = []
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:  # dramatiq #266: skip, as the stock consumer does
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    self.handed[message.message_id] = message.options["redis_message_id"]
                    return MessageProxy(message)
                if self.outstanding_message_count < self.prefetch:
                    self.message_cache = self.broker.do_fetch(
                        self.queue_name, self.prefetch - self.outstanding_message_count)
                    if self.message_cache:
                        continue
                    self.broker.client.blpop([wake_key(self.broker, self.queue_name)], self.timeout / 1000)
                    return None
                # prefetched as much as allowed: nothing to wake for until the worker acks, so back off as usual
                self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                time.sleep(backoff_ms / 1000)
                return None
        except redis.ConnectionError as e:
            self.lost = True
            raise ConnectionClosed(e) from None


class WakingRedisBroker(RedisBroker):
    """The engine's broker: Dramatiq's Redis broker with consumers that are woken by enqueues, and that hand
    back what a restarted consumer left stranded.

    With `walk_queues`, only those queues (and their delay queues) are polled every worker timeout
    (ENGINE_POLL_MS) when idle; the others wait up to `quiet_poll_ms`. An enqueue wakes every consumer at once
    all the same, and a process heartbeats with any queue's poll: what the quick polls keep is the dead-worker pass
    on the walks' queue (its 10 % of commands), which brings a killed worker's batches back in ~11 s. The idle
    rounds and crowds queues, polled 20 times a second by each process, were ~3 % of a busy worker's CPU."""

    def __init__(self, *args: Any, walk_queues: frozenset[str] = frozenset(), quiet_poll_ms: int = 500,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # dramatiq is unannotated
        #: the latest consumer of each queue (Dramatiq makes a new one after a connection error)
        self._current_consumers: dict[str, WakingConsumer] = {}
        self.walk_queues = walk_queues
        self.quiet_poll_ms = quiet_poll_ms

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return WakingConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> WakingConsumer:
        if self.walk_queues and q_name(queue_name) not in self.walk_queues:
            timeout = max(timeout, self.quiet_poll_ms)
        consumer = cast(WakingConsumer, super().consume(queue_name, prefetch, timeout))
        before = self._current_consumers.get(queue_name)
        consumer.hand_back = before.stranded() if before is not None else []
        self._current_consumers[queue_name] = consumer
        return consumer
