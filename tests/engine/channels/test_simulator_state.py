"""The simulator's decisions without HTTP: deterministic outcomes, configuration rules, receipts queue."""

import pytest

from engine.simulator.state import SimConfig, Simulator, outcome_of, provider_id_of, unit_hash


def test_outcomes_depend_only_on_seed_rates_and_id():
    config = SimConfig(success_rate=0.6, failure_rate=0.3, reject_rate=0.05)
    ids = [f"1:n1:{i}" for i in range(5000)]
    first = [outcome_of(config, i) for i in ids]
    assert first == [outcome_of(SimConfig(success_rate=0.6, failure_rate=0.3, reject_rate=0.05), i) for i in ids]
    shares = {o: first.count(o) / len(ids) for o in ("delivered", "failed", "rejected", "no_receipt")}
    assert shares["delivered"] == pytest.approx(0.6, abs=0.03)
    assert shares["failed"] == pytest.approx(0.3, abs=0.03)
    assert shares["rejected"] == pytest.approx(0.05, abs=0.015)
    assert shares["no_receipt"] == pytest.approx(0.05, abs=0.015)
    other_seed = [outcome_of(SimConfig(success_rate=0.6, failure_rate=0.3, reject_rate=0.05, seed="x"), i)
                  for i in ids]
    assert other_seed != first
    assert 0 <= unit_hash("s", "k") < 1 and provider_id_of("a") == provider_id_of("a") != provider_id_of("b")


def test_all_success_and_all_failure_extremes():
    assert {outcome_of(SimConfig(success_rate=1.0, failure_rate=0.0), str(i)) for i in range(500)} == {"delivered"}
    assert {outcome_of(SimConfig(success_rate=0.0, failure_rate=1.0), str(i)) for i in range(500)} == {"failed"}
    assert {outcome_of(SimConfig(success_rate=0.0, failure_rate=0.0), str(i)) for i in range(500)} == {"no_receipt"}


@pytest.mark.parametrize("changes", [
    {"success_rate": 1.2}, {"success_rate": 0.7, "failure_rate": 0.4}, {"receipt_delay": -1}, {"nope": 1},
    {"outage": "yes"}, {"success_rate": "a lot"},
])
def test_bad_configuration_is_refused_and_changes_nothing(changes):
    sim = Simulator(SimConfig(callback_url="http://127.0.0.1:1/r"))
    before = sim.config
    with pytest.raises(ValueError):
        sim.configure(changes)
    assert sim.config is before


def test_receipts_wait_for_their_time_and_duplicates_are_not_rescheduled():
    sim = Simulator(SimConfig(success_rate=1.0, failure_rate=0.0, receipt_delay=5.0, callback_url="http://cb/r"))
    answers = sim.receive("text_sms", [{"id": "1:n:1", "to": "+1", "body": "hi"}], None)
    assert answers[0]["status"] == "accepted"
    sim.receive("text_sms", [{"id": "1:n:1", "to": "+1", "body": "hi"}], None)
    received_at = sim.records["1:n:1"].received_at
    assert sim.due_receipts(now=received_at + 4.9) == {}
    due = sim.due_receipts(now=received_at + 5.0)
    assert list(due) == ["http://cb/r"] and [r["id"] for r in due["http://cb/r"]] == ["1:n:1"]
    stats = sim.snapshot()
    assert stats["unique"] == 1 and stats["duplicates"] == 1 and stats["duplicate_ids"] == 1
    assert stats["receipts_scheduled"] == 1 and stats["receipts_pending"] == 0


def test_bodies_are_kept_up_to_the_limit():
    sim = Simulator(SimConfig(keep_bodies=2, callback_url="http://cb/r"))
    sim.receive("app_push", [{"id": str(i), "to": f"t{i}", "body": f"b{i}"} for i in range(4)], None)
    kept = [sim.records[str(i)].body for i in range(4)]
    assert kept == ["b0", "b1", None, None]


def test_a_lowered_receipt_delay_still_delivers_each_receipt_at_its_own_time():
    """Receipts queue in arrival order (a deque) while their due times grow; one due before the last queued
    (the delay was lowered) must not wait behind the later ones."""
    sim = Simulator(SimConfig(success_rate=1.0, failure_rate=0.0, receipt_delay=10.0, callback_url="http://cb/r"))
    sim.receive("text_sms", [{"id": "1:n:1", "to": "+1"}], None)
    slow_at = sim.records["1:n:1"].received_at
    sim.configure({"receipt_delay": 0.0})
    sim.receive("text_sms", [{"id": "1:n:2", "to": "+2"}, {"id": "1:n:3", "to": "+3"}], None)
    fast_at = sim.records["1:n:3"].received_at
    assert sim.snapshot()["receipts_pending"] == 3
    due = sim.due_receipts(now=fast_at)
    assert sorted(r["id"] for r in due["http://cb/r"]) == ["1:n:2", "1:n:3"]
    assert sim.due_receipts(now=slow_at + 9.9) == {} and sim.snapshot()["receipts_pending"] == 1
    assert [r["id"] for r in sim.due_receipts(now=slow_at + 10.0)["http://cb/r"]] == ["1:n:1"]
    sim.reset()
    assert sim.snapshot()["receipts_pending"] == 0
