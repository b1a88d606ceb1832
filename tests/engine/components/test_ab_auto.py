"""The AB Test's automatic-winner settings and executor, pure: the panel's rules (clear errors), the test share
(a stable hash: the same customers each time), the others parked until the pick (HELD_AT), and after the pick
everyone on the winner's branch with the result "winner" — never counted as a group's inflow."""

from engine.components import ab_test
from engine.components.registry import get_component
from tests.engine.components.conftest import MemoryPorts, customer, make_batch

GROUPS = [{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}]
N = 2000


def config(**kw) -> dict:
    return {"groups": GROUPS, "target_event": "purchase", "window_hours": 48, **kw}


def execute(raw: dict, ports: MemoryPorts, n: int = N):
    component = get_component("ab_test")
    assert component.validate(raw) == []
    return component.execute(make_batch([customer(i) for i in range(1, n + 1)]), component.parse(raw), ports)


def test_the_settings_are_validated_with_clear_errors() -> None:
    component = get_component("ab_test")
    assert component.validate(config(auto_winner=True, significance="99", test_share=20)) == []
    assert component.validate(config(auto_winner=True, significance="80")) == [
        "significance: Input should be '90', '95' or '99'"]
    assert component.validate(config(auto_winner=True, test_share=0)) == [
        "test_share: Input should be greater than or equal to 1"]
    assert component.validate(config(auto_winner=True, test_share=101)) == [
        "test_share: Input should be less than or equal to 100"]
    assert component.validate(config(auto_winner=True, window_hours=200)) == [
        "window_hours: with an automatic winner the window is at most 168 hours (7 days: customer details are "
        "kept 7 days)"]
    assert component.validate(config(window_hours=200, test_share=20)) == []  # off: the share is not used
    schema = component.schema()["properties"]
    assert schema["significance"]["ui"]["shown_when"] == {"auto_winner": ["True"]}
    assert schema["test_share"]["ui"]["shown_when"] == {"auto_winner": ["True"]}


def test_without_the_automatic_winner_everyone_is_in_the_test(ports: MemoryPorts) -> None:
    outcome = execute(config(test_share=20), ports)
    assert outcome.parked == [] and sum(len(v) for v in outcome.routes.values()) == N


def test_a_share_of_the_customers_is_tested_the_rest_wait_for_the_pick(ports: MemoryPorts) -> None:
    outcome = execute(config(auto_winner=True, test_share=20), ports)
    tested = [cid for ids in outcome.routes.values() for cid in ids]
    [(wake, held)] = outcome.parked
    assert wake == ab_test.HELD_AT and sorted(tested + held) == list(range(1, N + 1))
    assert 0.2 * N - 3 * (N * 0.2 * 0.8) ** 0.5 < len(tested) < 0.2 * N + 3 * (N * 0.2 * 0.8) ** 0.5
    assert outcome.metrics == {f"inflow_{b}": len(ids) for b, ids in outcome.routes.items()}
    assert all(ab_test.in_test(7, "n2", cid, 20) for cid in tested)
    assert execute(config(auto_winner=True, test_share=20), ports).routes == outcome.routes  # stable


def test_after_the_pick_everyone_takes_the_winners_branch(ports: MemoryPorts) -> None:
    ports.winners[(7, "n2")] = "group_2"
    outcome = execute(config(auto_winner=True, test_share=20), ports, n=50)
    assert outcome.routes == {"group_2": list(range(1, 51))} and outcome.parked == [] and outcome.metrics == {}
    assert set(outcome.results.values()) == {(ab_test.WINNER, None)}


def test_the_card_says_the_winner_is_picked_automatically() -> None:
    from engine.components.meta import SummaryContext

    summary = get_component("ab_test").meta.summary
    assert summary is not None
    ctx = SummaryContext()
    assert summary(config(), ctx) == "50% / 50% · goal purchase"
    assert summary(config(auto_winner=True, significance="99"), ctx) == "50% / 50% · goal purchase · auto winner 99 %"
