"""The scheduler owns time: start and end times, periodic cycles, parked waits, queued re-runs, handing new
rounds and Generate Crowd operations to the workers (outboxes: rounds created by publish/start/re-run and
operations accepted by the page are dispatched from the DB, so a crash between commit and enqueue loses
nothing), the stored Reach Task rows' numbers while their rounds send (once a second), and the 7-day
retention. Run it with

    python -m engine.scheduler

Several may run; a Redis lease makes one of them act at a time. All state is in the DB and Redis. Each tick
also notices Redis state that was lost (rounds without their marker end Abnormal End instead of Completed:
engine/runtime/redis_state.py) and applies receipts and events kept while Redis was away (engine/runtime/inbox.py).
"""

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from redis.exceptions import LockNotOwnedError
from redis.lock import Lock
from sqlmodel import col, select

from engine import clock
from engine.db import read_session, write_session
from engine.models import ExecutionRecord, pk_ids, row_id
from engine.runtime import ab_winner, abtest, inbox, lifecycle, reach_refresh, redis_state, rescue
from engine.runtime.connection import get_redis
from engine.runtime.receipts import expire_pending, retry_late
from engine.runtime.rounds import check_rounds, finish_if_done, persist_counters
from engine.runtime.step import round_context
from engine.runtime.store import RoundStore
from engine.services import crowds, normal_tasks, segment
from engine.settings import get_settings
from engine.shared import scheduler_wake
from engine.status import RecordStatus

log = logging.getLogger("engine.scheduler")
LEASE_KEY = "scheduler:lease"
REACH_REFRESH_S = 1.0  # how often the moving Reach Task rows follow the Redis counters


class Scheduler:
    def __init__(self, *, dispatch: Callable[[int], object], resume: Callable[[int, str, str], None],
                 store: RoundStore | None = None, walk: Callable[[int, str, str, bool], object] | None = None,
                 stall_s: float | None = None, enter: Callable[[int, str, str], None] | None = None,
                 crowd: Callable[[int], object] | None = None) -> None:
        # dispatch/walk/crowd may return what they enqueued (an actor's `send` returns its Message): ignored
        self.dispatch = dispatch  # start a round on the workers
        self.resume = resume  # continue a parked batch after its wait
        self.walk = walk  # enqueue a walk of a batch (record, node, batch, resume): rescues lost batches
        self.enter = enter  # enqueue a walk of customers entering (record, node, batch): kept events
        self.crowd = crowd  # enqueue a Generate Crowd operation (its outbox)
        self.store = store or RoundStore(get_redis())
        self.identity = f"{os.getpid()}-{time.time_ns()}"
        self._lease = Lock(self.store.r, LEASE_KEY, thread_local=False)
        self._last_purge = 0.0
        self._last_ab = 0.0
        self._last_reach = 0.0
        self.stall_s = get_settings().engine_stall_s if stall_s is None else stall_s
        self._progress: dict[int, tuple[int, float]] = {}  # record → (pending batches, unchanged since)

    def holds_lease(self, ttl_ms: int | None = None) -> bool:
        """Keep (or take) the lease that lets one scheduler act: a redis-py `Lock` with this scheduler's token.
        Keeping it is `reacquire`, one Lua call that resets the TTL only while the key still holds our token, so
        a lease that lapsed and was taken by another scheduler is never extended by this one."""
        self._lease.timeout = (ttl_ms or get_settings().scheduler_lease_ms) / 1000
        if self._lease.local.token is not None:
            try:
                return self._lease.reacquire()
            except LockNotOwnedError:
                self._lease.local.token = None  # lapsed: taken by another, or free to take again below
        return bool(self._lease.acquire(blocking=False, token=self.identity))

    def tick(self, now: datetime | None = None) -> dict[str, Sequence[object]]:
        """One pass over everything time-driven; returns what it did (for logs and tests)."""
        now = now or clock.now()
        done: dict[str, Sequence[object]] = {}
        redis_state.rebind_if_empty(self.store.r)  # Redis restarted empty: its lost rounds are found next
        done.update(check_rounds(store=self.store))  # before closing rounds: lost ≠ done
        done["inbox"] = [inbox.drain(store=self.store, enqueue=lambda *walk: self._enqueue()(*walk))]
        for name, step in (("begun", lifecycle.begin_due), ("cycles", lifecycle.cycles_due),
                           ("reruns", lifecycle.reruns_due), ("ended", lifecycle.end_due)):
            with write_session() as session:
                done[name] = step(session, now)
        done["normal_tasks"] = self._normal_tasks(now)
        done["dispatched"] = self._dispatch_new_rounds(now)
        done["crowds"] = crowds.dispatch_waiting(send=lambda op: self._send_crowd()(op), now=now)
        done["resumed"] = self._release_waits(now)
        done["finished"] = self._finish_closed_rounds()
        done["late_receipts"] = [retry_late(store=self.store)]
        done["rescued"] = self._rescue_stalled_rounds() if self.walk is not None else []
        if time.monotonic() - self._last_reach >= REACH_REFRESH_S:  # Reach Tasks' stored numbers (issue 14)
            done["reach_tasks"] = [reach_refresh.refresh_moving(self.store, now)]
            self._last_reach = time.monotonic()
        if time.monotonic() - self._last_ab > 60:  # AB test results while their windows are open
            self.refresh_ab_tests(now)
            self._last_ab = time.monotonic()
        if time.monotonic() - self._last_purge > 3600:  # hourly housekeeping
            with write_session() as session:
                lifecycle.purge_details(session, now)
                segment.purge_expired(session, now)  # Segment API: old messageIds, never-identified anonymous events
            expire_pending(store=self.store, now=now)
            self._refresh_markers()
            self._last_purge = time.monotonic()
        return done

    def _normal_tasks(self, now: datetime) -> list[int]:
        """Reach Tasks' normal tasks: moderated, then sent as new rounds (dispatched below in the same tick); the
        write transaction is opened only when a read found work."""
        with read_session() as session:
            if not normal_tasks.has_work(session, now):
                return []
        with write_session() as session:
            return normal_tasks.moderate_and_send(session, now)["sent"]

    def refresh_ab_tests(self, now: datetime) -> list[int]:
        with write_session() as session:
            refreshed = abtest.refresh_recent(session, self.store, now)
            closed = pk_ids(session.exec(select(ExecutionRecord.id).where(
                col(ExecutionRecord.id).in_(refreshed), ExecutionRecord.status != RecordStatus.IN_PROGRESS)).all())
            for record_id in closed:
                persist_counters(session, record_id, self.store)
        ab_winner.pick_and_release(self.store, now)  # issue 16: the automatic winner, and its held customers
        return refreshed

    def _dispatch_new_rounds(self, now: datetime) -> list[int]:
        with write_session() as session:
            records = session.exec(select(ExecutionRecord).where(
                ExecutionRecord.status == RecordStatus.IN_PROGRESS,
                col(ExecutionRecord.dispatched_at).is_(None))).all()
            for record in records:
                redis_state.mark(self.store.r, row_id(record))  # its Redis state begins with the message
                self.dispatch(row_id(record))  # before the commit: a crash here re-dispatches (start is idempotent)
                record.dispatched_at = now
                session.add(record)
            return [row_id(r) for r in records]

    def _enqueue(self) -> Callable[[int, str, str], None]:
        """How kept events' customers are handed to the workers (the actors' queue, or the test's)."""
        if self.enter is None:
            # lazily on purpose (tests/engine/test_layers.py): importing engine.actors declares the actors on the
            # process's broker and tunes its GC for a worker; only a scheduler that sends to the workers needs that
            from engine.actors import enqueue_step

            self.enter = enqueue_step
        return self.enter

    def _send_crowd(self) -> Callable[[int], object]:
        """How Generate Crowd operations are handed to the workers (the actor's queue, or the test's)."""
        if self.crowd is None:
            from engine.crowd_actor import generate_crowd  # lazily on purpose, as in _enqueue (declares an actor)

            self.crowd = generate_crowd.send
        return self.crowd

    def _refresh_markers(self) -> None:
        """Rounds running longer than the markers' TTL (event-triggered rounds stay open) keep them."""
        with read_session() as session:
            ids = session.exec(select(ExecutionRecord.id).where(
                ExecutionRecord.status == RecordStatus.IN_PROGRESS)).all()
        redis_state.refresh(self.store.r, pk_ids(ids))

    def _release_waits(self, now: datetime) -> list[str]:
        released = []
        for member, data in self.store.due_waits(now.timestamp()):
            self.resume(data["record"], data["node"], data["batch"])
            self.store.unpark(member)
            released.append(data["batch"])
        return released

    def _finish_closed_rounds(self) -> list[int]:
        with write_session() as session:
            ids = pk_ids(session.exec(select(ExecutionRecord.id).where(
                ExecutionRecord.status == RecordStatus.IN_PROGRESS,
                col(ExecutionRecord.entry_closed).is_(True))).all())
        return [rid for rid in ids if finish_if_done(rid, store=self.store)]

    def _rescue_stalled_rounds(self) -> list[str]:
        """Rounds whose pending batches have not changed for `stall_s`: re-enqueue batches with no message."""
        with write_session() as session:
            ids = pk_ids(session.exec(select(ExecutionRecord.id).where(
                ExecutionRecord.status == RecordStatus.IN_PROGRESS)).all())
        now = time.monotonic()
        rescued: list[str] = []
        for record_id in ids:
            pending = self.store.pending(record_id)
            count, since = self._progress.get(record_id, (-1, now))
            if pending != count:
                self._progress[record_id] = (pending, now)
                continue
            if pending and now - since >= self.stall_s:
                ctx = round_context(record_id)
                trigger = ctx.plan.graph.trigger_id if ctx else None
                if trigger and self.walk is not None:
                    rescued += rescue.rescue(self.store, record_id, trigger, self.walk)
                self._progress[record_id] = (pending, now)
        for record_id in set(self._progress) - set(ids):
            del self._progress[record_id]
        return rescued

    def run(self, interval: float = 0.5) -> None:
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("scheduler running")
        while not stopping:
            started = time.monotonic()
            leading = False
            try:
                if leading := self.holds_lease():
                    self.tick()
            except Exception:  # noqa: BLE001 — keep owning time; the next tick retries from DB state
                log.exception("scheduler tick failed")
            rest = max(0.0, interval - (time.monotonic() - started))
            if leading:  # woken by a new round (a standby leaves the token to the scheduler that acts)
                scheduler_wake.nap(self.store.r, rest)
            else:
                time.sleep(rest)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from engine.actors import begin_round, resume_waiting, run_batch  # lazily on purpose, as in Scheduler._enqueue

    redis_state.bind_at_boot(get_redis())  # refuses another database's Redis (engine/runtime/redis_state.py)
    Scheduler(dispatch=begin_round.send, resume=resume_waiting,
              walk=lambda record, node, batch, resume: run_batch.send(record, node, batch, resume)).run()


if __name__ == "__main__":
    main()
