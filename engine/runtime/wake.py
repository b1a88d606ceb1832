"""Idle workers woken by the enqueue instead of polling for it (behaviour-event latency).

Dramatiq's Redis consumer sleeps between empty fetches (up to ENGINE_POLL_MS), so a message enqueued just
after a fetch waits for the next poll: half the poll on average, all of it at worst — most of an event's
time to its first touch. Here every enqueue also pushes a token onto the queue's wake list (one LPUSH + LTRIM
in a pipeline) and an idle consumer waits on that list with BLPOP for at most the same ENGINE_POLL_MS: it
fetches the moment a message arrives, and still fetches every ENGINE_POLL_MS when nothing comes, so heartbeats
and the dead-worker maintenance (engine/runtime/broker.py) behave as before.

No wake is ever lost: a token pushed between a consumer's empty fetch and its BLPOP is still in the list when
the BLPOP comes. A stale token (its message already fetched by another consumer) costs one empty fetch.
"""

import time
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
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

    def __next__(self) -> MessageProxy | None:
        try:
            while True:
                if self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is None:  # dramatiq #266: skip, as the stock consumer does
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
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
            raise ConnectionClosed(e) from None


class WakingRedisBroker(RedisBroker):
    """The engine's broker: Dramatiq's Redis broker with consumers that are woken by enqueues."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return WakingConsumer
