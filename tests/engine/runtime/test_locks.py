"""The batch claim and the scheduler lease are redis-py `Lock`s: kept alive only while the key still holds the
owner's token (one Lua call), so an owner whose claim or lease lapsed and was taken by another never extends it.
Real Redis; a lapse is made by deleting the key (what its TTL running out leaves), the other owner's TTL is the
observable: an old owner's keep-alive would have reset it to its own, shorter TTL."""

import redis

from engine.runtime.store import Claims, RoundStore
from engine.scheduler import LEASE_KEY, Scheduler

LONG_MS = 60_000  # the other owner's TTL: longer than anything the old owner would set


def test_a_claim_is_kept_alive_while_owned(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    claims, key = Claims(), "claim:7:b1"
    r.set(key, claims.token_now(), px=1000)  # taken as the begin script takes it
    claims.adopt(r, key, 5000)
    r.pexpire(key, 3000)  # time passed
    assert claims.refresh_once() == []
    assert r.pttl(key) > 3000 and r.get(key) == claims.token_now().encode()


def test_a_lapsed_claim_taken_by_another_worker_is_not_extended_by_the_old_owner(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    claims, key = Claims(), "claim:7:b1"
    r.set(key, claims.token_now(), px=5000)
    claims.adopt(r, key, 5000)
    r.delete(key)  # the old owner stalled past its TTL ...
    r.set(key, "other-worker", px=LONG_MS)  # ... and the redelivered walk's worker claimed the batch

    claims.refresh_once()  # what the keep-alive thread runs every third of the TTL

    assert key not in claims.held  # forgotten: never refreshed again
    assert r.get(key) == b"other-worker"
    assert r.pttl(key) > 5000  # not reset to the old owner's 5 s
    claims.release(r, key)  # the old owner's walk ends: the new owner's claim stays
    assert r.get(key) == b"other-worker"


def test_a_walk_releases_its_own_claim_in_its_final_transaction(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    store = RoundStore(r)
    store.put_batch(3, "b1", [1, 2, 3])
    store.add_pending(3, ["b1"])
    assert store.begin(3, "b1") == ("go", [1, 2, 3])
    assert store.begin(3, "b1")[0] == "go"  # the same thread retrying takes its own claim again
    pipe = r.pipeline(transaction=True)
    store.release(3, "b1", pipe)
    pipe.execute()
    assert not r.exists("claim:3:b1")


def _scheduler(r: redis.Redis) -> Scheduler:
    return Scheduler(dispatch=lambda _record: None, resume=lambda *_: None, store=RoundStore(r))


def test_a_lease_held_by_another_scheduler_is_never_extended_by_this_one(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    first, second = _scheduler(r), _scheduler(r)
    assert first.holds_lease(ttl_ms=5000)
    assert not second.holds_lease(ttl_ms=LONG_MS)  # one acts at a time
    r.pexpire(LEASE_KEY, 3000)
    assert first.holds_lease(ttl_ms=5000) and r.pttl(LEASE_KEY) > 3000  # its own lease is kept alive

    r.delete(LEASE_KEY)  # the first stalled past its TTL ...
    assert second.holds_lease(ttl_ms=LONG_MS)  # ... and the second took over
    assert not first.holds_lease(ttl_ms=1000)
    assert r.get(LEASE_KEY) == second.identity.encode()
    assert r.pttl(LEASE_KEY) > 5000  # not cut to the first's TTL

    r.delete(LEASE_KEY)  # the second stopped: the first takes the lease again
    assert first.holds_lease(ttl_ms=5000) and not second.holds_lease(ttl_ms=5000)
