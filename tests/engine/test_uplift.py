"""The uplift's confidence interval against Newcombe's own worked examples (Statistics in Medicine 1998,
table II, method 10), and its edges."""

import pytest

from engine.shared.uplift import uplift, wilson


@pytest.mark.parametrize(("a", "m", "b", "n", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0),
])
def test_newcombe_hybrid_score_interval_matches_the_paper(a: int, m: int, b: int, n: int, low: float,
                                                          high: float) -> None:
    found = uplift(a, m, b, n)
    assert found is not None
    assert found.difference == pytest.approx(a / m - b / n)
    assert found.low == pytest.approx(low, abs=1e-4)
    assert found.high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_of_one_proportion() -> None:
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 10)[0] == pytest.approx(0.0) and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_no_interval_without_both_groups_and_significance_follows_zero() -> None:
    assert uplift(3, 10, 0, 0) is None and uplift(0, 0, 1, 10) is None
    assert uplift(56, 70, 48, 80).significant  # type: ignore[union-attr]
    assert not uplift(5, 56, 0, 29).significant  # type: ignore[union-attr]
    same = uplift(100, 1000, 10, 100)
    assert same is not None and same.difference == pytest.approx(0) and same.low < 0 < same.high
