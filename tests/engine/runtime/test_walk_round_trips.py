"""A walk pays a Redis round trip for its counters only where a component acts: routing-only components
(Target Audience, splits, judgments, End) ride with the next write, and the counters still add up."""

from engine.runtime.connection import get_redis
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore
from tests.engine.runtime.support import records, records_status, seed_activity


def multi_calls(r) -> int:  # noqa: ANN001 — redis.Redis
    return int(r.info("commandstats").get("cmdstat_multi", {}).get("calls", 0))


def test_routing_components_cost_no_round_trip_and_counters_add_up(engine, simulator) -> None:
    activity_id, _owner = seed_activity(2000)  # Target → Text SMS → Random Grouping → APP PUSH / End → End
    record_id = int(records(activity_id)[0].id)  # type: ignore[arg-type]
    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda _r, node, batch: batches.append((node, batch)), store=store)
    assert len(batches) == 1
    before = multi_calls(store.r)
    run_step(record_id, *batches[0], store=store)
    # one MULTI entering Text SMS (with Target's counters), one entering APP PUSH (with the split's), one at the
    # end (the Ends' counters, the batch leaving the pending set) — not one per component (7)
    assert multi_calls(store.r) - before == 3
    finish_if_done(record_id, store=store)
    assert records_status(record_id) == "completed"
    c = store.counters(record_id)
    assert c["t"]["entered"] == c["t"]["passed"] == c["sms"]["entered"] == 2000
    assert c["rg"]["entered"] == c["sms"]["passed"] == 2000
    assert c["push"]["entered"] == c["rg"]["branch:group_1"] and c["e2"]["entered"] == c["rg"]["branch:group_2"]
    assert c["e1"]["entered"] == c["push"]["passed"] and c["e1"]["entered"] + c["e2"]["entered"] == 2000
    assert c["sms"]["sent"] + c["sms"]["not_sent"] == 2000 and c["sms"]["not_sent"] == 40
