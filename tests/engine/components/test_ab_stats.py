"""The automatic AB winner's statistics, pure: the two-proportion z-test against known values (R's
`prop.test(correct=FALSE)`, whose X-squared is z², and the normal quantiles), and the decision rule — early only
when significant at the level and every group is testable, at the window's end the best rate (ties and empty
tests explained)."""

import math

import pytest

from engine.components.ab_stats import (
    SIGNIFICANT,
    WINDOW_ENDED,
    GroupStat,
    decide,
    p_text,
    two_proportion,
    weakest_test,
)


def test_two_proportion_matches_r_prop_test() -> None:
    # prop.test(c(200, 250), c(1000, 1000), correct = FALSE): X-squared = 7.1685, p-value = 0.007420
    t = two_proportion(200, 1000, 250, 1000)
    assert t.z == pytest.approx(-2.6774, abs=1e-4)
    assert t.z ** 2 == pytest.approx(7.1685, abs=1e-4)
    assert t.p_value == pytest.approx(0.007420, abs=1e-6)
    assert t.confidence == pytest.approx(0.992580, abs=1e-6)
    # prop.test(c(45, 30), c(300, 300), correct = FALSE): X-squared = 3.4286, p-value = 0.06408
    t = two_proportion(45, 300, 30, 300)
    assert t.z ** 2 == pytest.approx(3.4286, abs=1e-4) and t.p_value == pytest.approx(0.06408, abs=1e-5)


@pytest.mark.parametrize(("z", "p"), [(1.6448536, 0.10), (1.9599640, 0.05), (2.5758293, 0.01)])
def test_p_values_are_the_normal_two_sided_tails(z: float, p: float) -> None:
    # x1/n1 - x2/n2 chosen so that z is the quantile: p is its two-sided tail
    n = 10_000
    pooled = 0.5
    diff = z * math.sqrt(pooled * (1 - pooled) * 2 / n)
    half = diff / 2 * n
    assert half == pytest.approx(round(half), abs=0.5)  # the counts are whole enough for 1e-2 precision
    t = two_proportion(round(n / 2 + half), n, round(n / 2 - half), n)
    assert t.p_value == pytest.approx(p, rel=0.05)


def test_no_difference_can_be_shown_without_customers_or_variance() -> None:
    assert two_proportion(0, 0, 5, 10).p_value == 1.0
    assert two_proportion(0, 10, 0, 10).p_value == 1.0
    assert two_proportion(10, 10, 10, 10).p_value == 1.0
    assert two_proportion(3, 10, 3, 10).z == 0.0


def groups(*pairs: tuple[int, int]) -> list[GroupStat]:
    return [GroupStat(f"group_{i + 1}", "AB"[i] if i < 2 else f"Group {i + 1}", n, x)
            for i, (n, x) in enumerate(pairs)]


def test_an_early_pick_needs_significance_at_the_level_set() -> None:
    g = groups((1000, 200), (1000, 250))  # p = 0.0074
    picked = decide(g, level="99", window_ended=False)
    assert picked is not None and picked.winner == "group_2" and picked.kind == SIGNIFICANT
    assert picked.reason == "significant at 99 % (p=0.007) after 2,000 customers"
    assert picked.customers == 2000 and picked.p_value == pytest.approx(0.00742, abs=1e-5)
    g = groups((300, 45), (300, 30))  # p = 0.064: significant at 90 %, not at 95 %
    assert decide(g, level="95", window_ended=False) is None
    at90 = decide(g, level="90", window_ended=False)
    assert at90 is not None and at90.winner == "group_1" and at90.reason.startswith("significant at 90 % (p=0.064)")


def test_no_early_pick_while_a_group_is_too_small_to_test() -> None:
    assert decide(groups((40, 4), (40, 30)), level="90", window_ended=False) is None  # 4 conversions < 5
    assert decide(groups((40, 36), (40, 10)), level="90", window_ended=False) is None  # 4 non-conversions < 5
    assert decide(groups((0, 0), (40, 10)), level="90", window_ended=False) is None


def test_with_three_groups_the_best_must_beat_each_other_group() -> None:
    close = groups((1000, 200), (1000, 250), (1000, 245))  # B beats A clearly, C only by a hair
    assert weakest_test(close) is not None and weakest_test(close).p_value > 0.5  # type: ignore[union-attr]
    assert decide(close, level="90", window_ended=False) is None
    clear = groups((1000, 200), (1000, 300), (1000, 210))
    picked = decide(clear, level="95", window_ended=False)
    assert picked is not None and picked.winner == "group_2"


def test_at_the_window_end_the_best_rate_wins_and_says_why() -> None:
    picked = decide(groups((300, 45), (300, 30)), level="95", window_ended=True)
    assert picked is not None and (picked.winner, picked.kind) == ("group_1", WINDOW_ENDED)
    assert picked.reason == ("window ended: best rate 15.0 % vs 10.0 %, p=0.064, not significant at 95 % "
                             "after 600 customers")
    significant = decide(groups((1000, 200), (1000, 250)), level="95", window_ended=True)
    assert significant is not None and significant.reason == ("window ended: best rate 25.0 % vs 20.0 %, p=0.007 "
                                                              "after 2,000 customers")


def test_ties_and_empty_tests_at_the_window_end_are_explained() -> None:
    tie = decide(groups((100, 10), (100, 10)), level="95", window_ended=True)
    assert tie is not None and tie.winner == "group_1"
    assert tie.reason == "window ended: A and B tied at 10.0 % after 200 customers; A, listed first, wins"
    nothing = decide(groups((100, 0), (100, 0)), level="95", window_ended=True)
    assert nothing is not None and nothing.winner == "group_1"
    assert nothing.reason == ("window ended with no target reached in any group after 200 customers: A, listed "
                              "first, wins")
    nobody = decide(groups((0, 0), (0, 0)), level="95", window_ended=True)
    assert nobody is not None and nobody.customers == 0 and nobody.winner == "group_1"
    with pytest.raises(ValueError, match="unknown significance level"):
        decide(groups((1, 1)), level="80", window_ended=True)


def test_tiny_p_values_are_written_as_below_a_thousandth() -> None:
    picked = decide(groups((100, 10), (100, 50)), level="95", window_ended=False)
    assert picked is not None and picked.reason == "significant at 95 % (p<0.001) after 200 customers"
    assert p_text(0.0004) == "p<0.001" and p_text(0.001) == "p=0.001" and p_text(0.0123) == "p=0.012"
