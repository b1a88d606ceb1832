"""The automatic winner's section as the panel shows it (marketing_app/states/analysis_ab.py): nothing for a test
without it, "Testing" with the live p-value while it runs, the winner with when and why once picked."""

from datetime import UTC, datetime

from engine.services import analysis as svc
from engine.services.ab_panel import AbAuto
from marketing_app.states.analysis_ab import ab_auto_view

GROUPS = [svc.AbGroup("group_1", "A", 50, 100, 10), svc.AbGroup("group_2", "B", 50, 100, 25)]


def summary(auto: AbAuto | None) -> svc.AbSummary:
    return svc.AbSummary(groups=GROUPS, winner="", target_event="purchase", window_hours=24, auto=auto)


def test_nothing_without_the_automatic_winner() -> None:
    assert not ab_auto_view(summary(None)).on and not ab_auto_view(None).on


def test_testing_then_picked() -> None:
    testing = ab_auto_view(summary(AbAuto(level="99", share=20, p_value=0.0261, waiting=800, to_winner=0)))
    assert testing.on and not testing.decided and testing.waiting == 800
    assert testing.settings == "99 % significance · 20 % of the customers in the test"
    assert (testing.p_value, testing.confidence, testing.confidence_note) == ("p=0.026", "97.4 %", "now")
    assert testing.status == "Testing: not significant yet at 99 % (p=0.026); the window's end picks the best rate."
    due = ab_auto_view(summary(AbAuto(level="95", share=20, p_value=0.0261, waiting=800, to_winner=0)))
    assert due.status.startswith("Testing: significant at 95 % (p=0.026): the scheduler's next pass")
    assert [(g.name, g.customers, g.conversions, g.rate) for g in testing.groups] == [
        ("A", "100", "10", "10.0 %"), ("B", "100", "25", "25.0 %")]
    picked = ab_auto_view(summary(AbAuto(level="95", share=20, p_value=0.0061, waiting=0, to_winner=800,
                                         winner="group_2", kind="significant",
                                         reason="significant at 95 % (p=0.006) after 200 customers",
                                         decided_at=datetime(2026, 12, 6, 0, 12, tzinfo=UTC))))
    assert picked.decided and picked.winner == "B" and picked.when == "2026-12-06 00:12 UTC"
    assert picked.confidence_note == "at the pick" and [g.winner for g in picked.groups] == [False, True]
    assert picked.status == "B won: significant at 95 % (p=0.006) after 200 customers."
    tiny = ab_auto_view(svc.AbSummary(groups=[svc.AbGroup("group_1", "A", 50, 10, 3), GROUPS[1]], winner="",
                                      target_event="purchase", window_hours=24,
                                      auto=AbAuto(level="95", share=50, p_value=0.00001, waiting=0, to_winner=0)))
    assert (tiny.p_value, tiny.confidence) == ("p<0.001", "> 99.9 %")
    assert tiny.status == ("Testing: p<0.001, but each group needs 5 conversions and 5 non-conversions before an "
                           "early pick.")
