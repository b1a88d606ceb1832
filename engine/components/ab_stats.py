"""The AB test's automatic winner, as pure functions: a two-proportion z-test and the decision rule.

- `two_proportion(x1, n1, x2, n2)`: the pooled two-sided z-test of two conversion rates (what R's
  `prop.test(..., correct=FALSE)` computes: its X-squared is z²). Standard library only (`math.erfc`).
- `decide(groups, level=..., window_ended=...)`: before the window ends, the best group wins once it beats every
  other group at the marketer's level (its largest p-value below 1 − level) and the normal approximation holds
  (at least MIN_OUTCOMES conversions and non-conversions in each group); when the window has ended, the best rate
  wins whatever the test says, ties going to the group listed first — and the reason says so.
"""

import math
from dataclasses import dataclass

#: the significance levels a marketer can choose (percent → alpha)
LEVELS: dict[str, float] = {"90": 0.10, "95": 0.05, "99": 0.01}
#: conversions and non-conversions each group needs before a test is trusted (the normal approximation's rule)
MIN_OUTCOMES = 5
SIGNIFICANT, WINDOW_ENDED = "significant", "window_ended"


@dataclass(frozen=True)
class GroupStat:
    branch: str  # group_1 ...
    name: str  # as the card shows it ("A", "Group 2")
    inflow: int  # test customers routed to the group
    achieved: int  # of them, those who did the target event within the window

    @property
    def rate(self) -> float:
        return self.achieved / self.inflow if self.inflow else 0.0


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float  # two-sided

    @property
    def confidence(self) -> float:
        """1 − p: how sure the difference is not chance (0.95 = significant at 95 %)."""
        return 1.0 - self.p_value


@dataclass(frozen=True)
class Decision:
    winner: str  # the winning group's branch
    kind: str  # SIGNIFICANT or WINDOW_ENDED
    reason: str  # in the marketer's words: "significant at 95 % (p=0.012) after 3,400 customers"
    p_value: float | None  # the best group against the closest other (None: a single group, or nobody yet)
    customers: int  # test customers counted at the pick


def two_proportion(x1: int, n1: int, x2: int, n2: int) -> ZTest:
    """Pooled two-proportion z-test of x1/n1 against x2/n2 (two-sided). No difference can be shown (z = 0, p = 1)
    when a group is empty or the pooled rate is 0 or 1."""
    if n1 <= 0 or n2 <= 0:
        return ZTest(0.0, 1.0)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return ZTest(0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return ZTest(z, math.erfc(abs(z) / math.sqrt(2)))


def ranked(groups: list[GroupStat]) -> list[GroupStat]:
    """Best first: the highest rate, then more conversions, then the group listed first."""
    order = {g.branch: i for i, g in enumerate(groups)}
    return sorted(groups, key=lambda g: (-g.rate, -g.achieved, order[g.branch]))


def weakest_test(groups: list[GroupStat]) -> ZTest | None:
    """The best group against each other group: the comparison it wins least clearly (largest p-value). None with
    fewer than two groups."""
    best, *others = ranked(groups)
    tests = [two_proportion(best.achieved, best.inflow, o.achieved, o.inflow) for o in others]
    return max(tests, key=lambda t: t.p_value) if tests else None


def testable(groups: list[GroupStat]) -> bool:
    """Every group has enough conversions and non-conversions for the z-test's normal approximation."""
    return all(g.achieved >= MIN_OUTCOMES and g.inflow - g.achieved >= MIN_OUTCOMES for g in groups)


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def p_text(p: float) -> str:
    """A p-value as the reasons and the panel write it: "p=0.012", "p<0.001" (never a misleading "p=0.000")."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def decide(groups: list[GroupStat], *, level: str, window_ended: bool) -> Decision | None:
    """The pick, or None while there is none to make (window open and not significant yet)."""
    if level not in LEVELS:
        raise ValueError(f"unknown significance level {level!r} (choose {', '.join(LEVELS)})")
    if not groups:
        return None
    order = ranked(groups)
    best = order[0]
    customers = sum(g.inflow for g in groups)
    test = weakest_test(groups)
    p = test.p_value if test is not None else None
    if not window_ended:
        if test is None or not testable(groups) or p is None or p >= LEVELS[level] or best.rate <= order[1].rate:
            return None
        return Decision(best.branch, SIGNIFICANT, f"significant at {level} % ({p_text(p)}) after {customers:,} "
                                                  "customers", p, customers)
    if customers == 0 or best.achieved == 0:
        return Decision(best.branch, WINDOW_ENDED, f"window ended with no target reached in any group after "
                                                   f"{customers:,} customers: {best.name}, listed first, wins",
                        p, customers)
    tied = [g for g in order if g.rate == best.rate and g.achieved == best.achieved]
    if len(tied) > 1:
        names = " and ".join(g.name for g in tied)
        return Decision(best.branch, WINDOW_ENDED, f"window ended: {names} tied at {_pct(best.rate)} after "
                                                   f"{customers:,} customers; {best.name}, listed first, wins",
                        p, customers)
    runner = order[1] if len(order) > 1 else None
    versus = f" vs {_pct(runner.rate)}" if runner else ""
    verdict = "" if p is None else (f", {p_text(p)}" + ("" if p < LEVELS[level] else f", not significant at {level} %"))
    return Decision(best.branch, WINDOW_ENDED, f"window ended: best rate {_pct(best.rate)}{versus}{verdict} after "
                                               f"{customers:,} customers", p, customers)
