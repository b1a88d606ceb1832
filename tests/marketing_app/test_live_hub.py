"""The app process's live hub on a real redis-server: the engine's own counter writes wake the pages watching
that record (and "any record" pages), not the others; bursts are merged but the last change is never lost; a
Redis restart is survived with a resync; the subscription lives exactly while someone watches."""

import asyncio
import time
from pathlib import Path

import redis

from engine.runtime import live
from engine.runtime.store import RoundStore
from marketing_app.live_hub import CLOSED, NOTICE, RESYNC, TIMEOUT, LiveHub
from tests.browser.harness import free_port
from tests.redis_process import RedisProcess
from tests.sync_run import run_sync


def subscribers(url: str) -> int:
    return int(redis.Redis.from_url(url).pubsub_numsub(live.CHANNEL)[0][1])


async def write_counters(store: RoundStore, record_id: int, entered: int) -> None:
    """The engine's own counter write (it PUBLISHes the record id), from a thread as a worker would."""
    await asyncio.to_thread(store.count, record_id, "sms", "b1", {"entered": entered})


def test_a_counter_write_wakes_the_pages_of_its_record_and_the_any_record_pages(redis_url: str) -> None:
    store = RoundStore(redis.Redis.from_url(redis_url))

    async def scenario() -> None:
        hub = LiveHub(redis_url)
        seven, other, anything = hub.watch({7}), hub.watch({8}), hub.watch(None)
        await asyncio.wait_for(hub.connected.wait(), 10)
        assert subscribers(redis_url) == 1  # three pages, one subscription
        await write_counters(store, 9, 1)  # nobody but "any" watches 9
        await write_counters(store, 7, 1)
        assert await seven.next(10) == NOTICE
        assert seven.last_changed == {7} and seven.notices == 1  # 9 never reached it (7 came after 9)
        assert await anything.next(10) == NOTICE
        assert anything.last_changed == {9, 7}
        assert await other.next(0.05) == TIMEOUT and other.notices == 0
        for w in (seven, other, anything):
            w.close()
        assert hub.watching == 0

    run_sync(scenario())


def test_a_burst_is_merged_and_the_last_change_is_never_dropped(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)

    async def scenario() -> None:
        hub = LiveHub(redis_url)
        w = hub.watch({5}, min_gap=0.2)
        await asyncio.wait_for(hub.connected.wait(), 10)
        await asyncio.to_thread(lambda: [live.publish(client, 5) for _ in range(200)])
        assert await w.next(10) == NOTICE
        first = time.monotonic()
        # the page refreshes now; a notice arriving meanwhile is kept for the next wake
        while w.notices < 200:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(live.publish, client, 5)
        assert await w.next(10) == NOTICE  # the change after the refresh started is not lost ...
        assert time.monotonic() - first >= 0.19  # ... but comes no sooner than min_gap after the previous one
        assert w.notices == 201
        w.close()
        assert await w.next(1) == CLOSED

    run_sync(scenario())


def test_a_new_watch_of_the_same_page_replaces_the_old_and_the_last_one_unsubscribes(redis_url: str) -> None:
    async def scenario() -> None:
        hub = LiveHub(redis_url)
        old = hub.watch({1}, owner=("tab", "canvas"))
        await asyncio.wait_for(hub.connected.wait(), 10)
        new = hub.watch({2}, owner=("tab", "canvas"))  # the page reloaded: one follower per page
        assert await old.next(1) == CLOSED and hub.current(("tab", "canvas")) is new
        assert hub.close_owner(("tab", "canvas")) and await new.next(1) == CLOSED
        assert hub.watching == 0
        for _ in range(200):  # the subscription goes with the last watcher
            if await asyncio.to_thread(subscribers, redis_url) == 0:
                break
            await asyncio.sleep(0.02)
        assert await asyncio.to_thread(subscribers, redis_url) == 0

    run_sync(scenario())


def test_the_hub_survives_a_redis_restart_and_resyncs_its_pages(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path, free_port()).start()
    try:
        async def scenario() -> None:
            hub = LiveHub(server.url)
            w = hub.watch({3})
            await asyncio.wait_for(hub.connected.wait(), 10)
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.start)
            assert await w.next(20) == RESYNC  # a notice may have been lost meanwhile: the page re-reads
            assert hub.connects == 2
            store = RoundStore(redis.Redis.from_url(server.url))
            await write_counters(store, 3, 5)
            assert await w.next(10) == NOTICE and w.last_changed == {3}
            w.close()

        run_sync(scenario())
    finally:
        server.stop()


def test_the_engine_sends_the_same_commands_whoever_listens(redis_url: str) -> None:
    """Open pages cost the workers nothing: what a counter write sends Redis does not depend on subscribers."""
    client = redis.Redis.from_url(redis_url)
    store = RoundStore(client)

    async def commands_of_one_write(pages: int) -> int:
        hub = LiveHub(redis_url)
        watches = [hub.watch({4}) for _ in range(pages)]
        if pages:
            await asyncio.wait_for(hub.connected.wait(), 10)
        before = int(client.info("stats")["total_commands_processed"])
        await write_counters(store, 4, pages + 1)
        after = int(client.info("stats")["total_commands_processed"])
        assert all([await w.next(10) == NOTICE for w in watches])  # every page heard it
        for w in watches:
            w.close()
        return after - before

    alone, watched = run_sync(commands_of_one_write(0)), run_sync(commands_of_one_write(50))
    assert alone == watched and alone > 1  # the PUBLISH and the writes, the same for 0 or 50 pages


def test_a_status_change_without_a_counter_write_wakes_every_page(database: str, redis_url: str) -> None:
    """A round stopped (or started, or ended by time) writes no counter: the process's probe notices it once
    and every page re-reads (RESYNC); while nothing moves, the probe wakes nobody."""
    from engine import db
    from engine.models import ExecutionRecord
    from engine.models.record import RecordTrigger
    from engine.services.live_status import status_fingerprint
    from engine.status import ActivityStatus, RecordStatus
    from tests import factories

    with db.write_session() as session:
        owner = factories.user(session, factories.workspace(session))
        act = factories.activity(session, owner, status=ActivityStatus.IN_PROGRESS)
        record = ExecutionRecord(activity_id=act.id, version_id=act.live_version_id, number=1,
                                 trigger=RecordTrigger.SCHEDULE)
        session.add(record)
        session.flush()
        record_id = record.id
    probes = 0

    def counted() -> tuple:
        nonlocal probes
        probes += 1
        return status_fingerprint()

    async def scenario() -> None:
        hub = LiveHub(redis_url, probe=counted, probe_s=0.05)
        page, dashboard = hub.watch({999}), hub.watch(None)
        while probes < 4:  # several probes of an unchanged database ...
            await asyncio.sleep(0.02)
        assert page.notices == dashboard.notices == 0 and not page._flag.is_set()  # ... woke nobody
        with db.write_session() as session:
            stopped = session.get(ExecutionRecord, record_id)
            assert stopped is not None
            stopped.status = RecordStatus.STOPPED
            session.add(stopped)
        assert await page.next(10) == RESYNC and await dashboard.next(10) == RESYNC
        page.close()
        dashboard.close()

    run_sync(scenario())
