"""The conversion uplift of the treated over the holdout: a difference of two proportions with Newcombe's hybrid
score interval (Newcombe 1998, method 10: Wilson intervals of each proportion combined), which keeps its
coverage with few conversions or rates near 0 % and 100 %, where the plain Wald interval does not. Pure."""

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Uplift:
    treated_rate: float
    holdout_rate: float
    difference: float  # treated − holdout, as a proportion (0.02 = 2 points)
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """The interval leaves out zero: the treated convert differently from the holdout."""
        return self.low > 0 or self.high < 0


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (0..1); (0, 1) when there is nobody."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def uplift(treated_conversions: int, treated: int, holdout_conversions: int, holdout: int,
           z: float = Z_95) -> Uplift | None:
    """The difference of the treated's and the holdout's conversion rates with its confidence interval (95 % by
    default); None while either group is empty."""
    if treated <= 0 or holdout <= 0:
        return None
    p1, p2 = treated_conversions / treated, holdout_conversions / holdout
    l1, u1 = wilson(treated_conversions, treated, z)
    l2, u2 = wilson(holdout_conversions, holdout, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Uplift(treated_rate=p1, holdout_rate=p2, difference=d, low=max(-1.0, low), high=min(1.0, high))
