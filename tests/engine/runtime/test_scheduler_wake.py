"""A new round wakes the scheduler at once (engine/shared/scheduler_wake.py): its nap between ticks ends when a
transaction that created an execution record commits, and a transaction rolled back leaves no token."""

import threading

import pytest

from engine.db import write_session
from engine.runtime.connection import get_redis
from engine.shared import scheduler_wake
from tests import factories as f
from tests.engine.runtime.support import seed_activity


def test_a_published_round_ends_the_nap_and_a_rolled_back_one_leaves_no_token(engine) -> None:
    r = get_redis()
    r.delete(scheduler_wake.WAKE_KEY)
    woke = threading.Event()

    def nap() -> None:
        scheduler_wake.nap(r, 60)  # a tick 60 s away: only the wake can end it within the wait below
        woke.set()

    napping = threading.Thread(target=nap, daemon=True)
    napping.start()
    seed_activity(5)  # publish: the round's record commits
    assert woke.wait(20)
    napping.join(5)
    assert r.llen(scheduler_wake.WAKE_KEY) == 0  # the one token was taken by the nap

    with pytest.raises(RuntimeError), write_session() as session:
        f.record(session)
        raise RuntimeError("refused half-way")
    assert r.llen(scheduler_wake.WAKE_KEY) == 0  # nothing committed, nobody woken
    with write_session() as session:
        f.record(session)
    assert r.llen(scheduler_wake.WAKE_KEY) == 1  # ...and a committed one is


def test_after_a_tick_longer_than_its_interval_the_next_one_comes_at_once(redis_url) -> None:
    """No time left after a long tick: no nap at all (BLPOP's timeout 0 means 'for ever'). The nap is run in a
    thread that must end on its own, with no token to wake it."""
    r = get_redis()
    r.delete(scheduler_wake.WAKE_KEY)
    for rest in (0.0, 0.0004):
        done = threading.Event()
        threading.Thread(target=lambda s=rest, d=done: (scheduler_wake.nap(r, s), d.set()), daemon=True).start()
        assert done.wait(10), f"nap({rest}) still waiting"
