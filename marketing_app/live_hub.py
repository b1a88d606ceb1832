"""One Redis subscription per app process, fanned out to the pages it serves (issue 12 part 2: live means pushed).

The engine PUBLISHes a record id on `live:records` after every write that changes the round's counters or status
(engine/runtime/live.py). This module holds ONE pub/sub connection per process (a single asyncio task, started
on the first watcher, ended with the last one, reconnecting with backoff when Redis restarts) and wakes the
`Watch`es of the records named, or of every record (the dashboard). Open pages therefore cost the workers
nothing: one PUBLISH per write, whoever listens.

Some changes are not counter writes and the engine does not announce them yet: a round started, stopped or ended
by time, an activity published or stopped, a Generate Crowd operation requested or finished (by the scheduler, a
worker, a service call in another process). Until it does, the hub probes them ONCE per process every
STATUS_PROBE_S (`engine.services.live_status.status_fingerprint`: a few aggregates over the rounds, activities
and crowd operations) and wakes every watch (RESYNC) when they moved — a cost independent of the pages open.

A `Watch` coalesces bursts: `next()` returns at most once per `min_gap` seconds (MIN_GAP_S), and a notice
arriving while the page refreshes is kept (the flag stays set), so the last change is never dropped. After a
reconnect every watch is woken once (`RESYNC`): a notice published while the subscription was down was lost,
the page re-reads.

No reflex import: the hub is plain asyncio + redis.asyncio, tested on a real redis-server.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Literal

import redis.asyncio as aioredis

from engine.runtime import live
from engine.services.live_status import status_fingerprint
from engine.settings import get_settings

log = logging.getLogger(__name__)

#: why `Watch.next` returned
NOTICE, RESYNC, TIMEOUT, CLOSED = "notice", "resync", "timeout", "closed"
Wake = Literal["notice", "resync", "timeout", "closed"]

MIN_GAP_S = 0.1  # at most one refresh per page per 100 ms (each is a delta the browser renders)
BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)  # reconnect delays while Redis is away
STATUS_PROBE_S = 2.0  # how often the process checks the changes not announced on live:records


class Watch:
    """A page's interest in some records (`records` None: any record). Use as an async context manager."""

    def __init__(self, hub: "LiveHub", records: Iterable[int] | None, owner: object, min_gap: float) -> None:
        self.hub, self.owner, self.min_gap = hub, owner, min_gap
        self.records: set[int] | None = None if records is None else {int(r) for r in records}
        self._flag = asyncio.Event()
        self._why: Wake = NOTICE
        self._closed = False
        self._last = 0.0  # monotonic time `next` last returned a change
        self.notices = 0  # notices that matched (for tests and benchmarks)
        self.changed: set[int] = set()  # the records noticed since `next` last returned
        self.last_changed: set[int] = set()  # those of the last change `next` returned
        self.follow_id = ""  # the page mount that started it (states/live.py: an older unmount leaves it alone)

    def wants(self, record_id: int) -> bool:
        return self.records is None or record_id in self.records

    def notify(self, why: Wake = NOTICE, record_id: int | None = None) -> None:
        if why == NOTICE:
            self.notices += 1
            if record_id is not None and len(self.changed) < 10_000:
                self.changed.add(record_id)
        if why == CLOSED:
            self._closed = True
        if self._why != CLOSED:
            self._why = why if why != NOTICE or self._why != RESYNC else RESYNC
        self._flag.set()

    @property
    def closed(self) -> bool:
        return self._closed

    async def next(self, timeout: float) -> Wake:
        """Wait for a change of the watched records (NOTICE / RESYNC), the watch's end (CLOSED) or `timeout`
        seconds of quiet (TIMEOUT). Changes come at most once per `min_gap`; those in between are merged."""
        if self._closed:
            return CLOSED
        try:
            await asyncio.wait_for(self._flag.wait(), timeout)
        except TimeoutError:
            return TIMEOUT
        if not self._closed:
            gap = self._last + self.min_gap - time.monotonic()
            if gap > 0:  # coalesce: notices arriving meanwhile only keep the flag set
                await asyncio.sleep(gap)
        if self._closed:
            return CLOSED
        why, self._why = self._why, NOTICE
        self._flag.clear()
        self.last_changed, self.changed = self.changed, set()
        self._last = time.monotonic()
        return why

    def close(self) -> None:
        self.hub._remove(self)
        self.notify(CLOSED)

    async def __aenter__(self) -> "Watch":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class LiveHub:
    """The process's subscription and its watchers (all on one event loop)."""

    def __init__(self, url: str | None = None, *, probe: Callable[[], object] | None = None,
                 probe_s: float = STATUS_PROBE_S) -> None:
        self.url, self.probe, self.probe_s = url, probe, probe_s
        self._watches: set[Watch] = set()
        self._owners: dict[object, Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._probe_task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()  # set while subscribed (tests wait for it instead of sleeping)
        self.connects = 0  # successful subscriptions (1 + reconnects)
        self.received = 0  # notices received

    # ------------------------------------------------------------------------------------------- watchers

    def watch(self, records: Iterable[int] | None, *, owner: object = None, min_gap: float = MIN_GAP_S) -> Watch:
        """Start watching `records` (None: every record). A new watch of the same `owner` (a page's tab and
        state) closes the previous one: a reloaded page never leaves a second follower behind."""
        w = Watch(self, records, owner, min_gap)
        if owner is not None:
            previous = self._owners.get(owner)
            if previous is not None:
                previous.close()
            self._owners[owner] = w
        self._watches.add(w)
        if self._task is None or self._task.done():
            self.connected.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-hub")
        if self.probe is not None and (self._probe_task is None or self._probe_task.done()):
            self._probe_task = asyncio.get_running_loop().create_task(self._probing(), name="live-hub-probe")
        return w

    def close_owner(self, owner: object) -> bool:
        """End the owner's watch (its page unmounted); False when it had none."""
        w = self._owners.get(owner)
        if w is None:
            return False
        w.close()
        return True

    def current(self, owner: object) -> Watch | None:
        return self._owners.get(owner)

    @property
    def watching(self) -> int:
        return len(self._watches)

    def _remove(self, w: Watch) -> None:
        self._watches.discard(w)
        if w.owner is not None and self._owners.get(w.owner) is w:
            del self._owners[w.owner]
        if not self._watches:
            for task in (self._task, self._probe_task):
                if task is not None:
                    task.cancel()  # nobody watches: no subscription held, nothing probed
            self._task = self._probe_task = None
            self.connected.clear()

    # ------------------------------------------------------------------------------------------- the subscription

    async def _run(self) -> None:
        attempt = 0
        while True:
            client = aioredis.Redis.from_url(self.url or get_settings().redis_url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(live.CHANNEL)
                if self.connects:  # notices published while we were away are lost: every page re-reads
                    log.info("live hub: resubscribed to %s", live.CHANNEL)
                    for w in list(self._watches):
                        w.notify(RESYNC)
                self.connects += 1
                attempt = 0
                self.connected.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except (aioredis.RedisError, OSError) as err:
                self.connected.clear()
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                attempt += 1
                log.warning("live hub: Redis subscription lost (%s); retrying in %.2f s", err, delay)
                await asyncio.sleep(delay)
            finally:
                await _quietly_close(pubsub, client)

    async def _probing(self) -> None:
        assert self.probe is not None
        last: object = None
        while True:
            try:
                now = await asyncio.to_thread(self.probe)
            except Exception as err:  # noqa: BLE001 — a database hiccup: try again next time
                log.warning("live hub: status probe failed (%s)", err)
                now = last
            if last is not None and now != last:
                for w in list(self._watches):
                    w.notify(RESYNC)
            last = now
            await asyncio.sleep(self.probe_s)

    def _dispatch(self, data: bytes | str) -> None:
        try:
            record_id = int(data)
        except (TypeError, ValueError):
            return
        self.received += 1
        for w in list(self._watches):
            if w.wants(record_id):
                w.notify(NOTICE, record_id)


async def _quietly_close(pubsub: object, client: aioredis.Redis) -> None:
    try:
        await pubsub.aclose()  # type: ignore[attr-defined]
        await client.aclose()
    except (aioredis.RedisError, OSError, RuntimeError):
        pass


_hubs: dict[asyncio.AbstractEventLoop, LiveHub] = {}


def hub() -> LiveHub:
    """The hub of the running event loop (one per app process: Reflex serves its pages on one loop)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for stale in [k for k in _hubs if k.is_closed()]:
            del _hubs[stale]
        found = _hubs[loop] = LiveHub(probe=status_fingerprint)
    return found
