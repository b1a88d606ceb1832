"""A finished walk is freed at once, by reference counting alone: nothing it creates (its pacer, its guard) may
point back at it. A cycle would leave each walk — its 2,000 customers' views, rows and routes — for a full
collection, which the workers' tuned collector (engine/runtime/gc_tuning.py) makes rare: a worker grew by
~330 MiB over a 1M-customer round when the pacer held its walk."""

import gc

from engine.runtime.connection import get_redis
from engine.runtime.rounds import start_round
from engine.runtime.step import Walk, run_step
from engine.runtime.store import RoundStore
from engine.services.pacing import PacingInput
from engine.shared.goal_rules import GoalSettings
from tests.engine.runtime.support import records, seed_activity


def _walks_alive() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Walk))


def test_a_paced_guarded_walk_leaves_nothing_behind(engine, simulator) -> None:
    activity_id, _owner = seed_activity(
        300, pacing=PacingInput(window_start="09:00", window_end="21:00", max_per_minute=100_000),
        goal=GoalSettings(goal_event="order_paid", goal_days=7, exit_on_goal=True, holdout_pct=10))
    record_id = int(records(activity_id)[0].id)  # type: ignore[arg-type]
    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda _r, node, batch: batches.append((node, batch)), store=store)
    gc.collect()
    before = _walks_alive()
    gc.disable()
    try:
        for node, batch in batches:
            run_step(record_id, node, batch, store=store)
        assert _walks_alive() == before  # every walk already gone, with the collector off
    finally:
        gc.enable()
    assert store.counters(record_id)["t"]["entered"] == 300  # the walks did run
