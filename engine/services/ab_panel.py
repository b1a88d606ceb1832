"""The automatic winner's part of an AB Test's action analysis (issue 16): the settings, the test's confidence
now (or at the pick), the pick — which group, when, why — and the customers still waiting for it.

Read-only; the caller (engine.services.analysis `node_analysis`) has already checked the actor may see the
round. The groups' numbers are the test customers' (counters `inflow_group_i` / `target:group_i`).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from engine.components.ab_stats import GroupStat, weakest_test
from engine.components.ab_test import AbTestConfig
from engine.runtime.ab_winner import decision_of


@dataclass(frozen=True)
class AbAuto:
    level: str  # the significance level set: "90" / "95" / "99"
    share: int  # customers in the test, percent
    p_value: float | None  # the best group against the closest other: at the pick, else now (None: no test yet)
    waiting: int  # customers held at the component until the pick
    to_winner: int  # customers sent to the winner by the pick (held, then released, or arriving after it)
    winner: str = ""  # the picked group's branch, "" before the pick
    kind: str = ""  # significant / window_ended
    reason: str = ""
    decided_at: datetime | None = None

    @property
    def confidence(self) -> float | None:
        return None if self.p_value is None else 1.0 - self.p_value


def auto_summary(session: Session, *, record_id: int, node_id: str, config: AbTestConfig,
                 groups: list[GroupStat], metrics: dict[str, int]) -> AbAuto | None:
    """None when the component picks no winner by itself."""
    if not config.auto_winner:
        return None
    waiting = max(int(metrics.get("entered", 0)) - int(metrics.get("passed", 0)), 0)
    tested = sum(g.inflow for g in groups)
    picked = decision_of(session, record_id, node_id)
    if picked is not None:
        test_in_winner = next((g.inflow for g in groups if g.branch == picked.winner), 0)
        to_winner = max(int(metrics.get(f"branch:{picked.winner}", 0)) - test_in_winner, 0)
        return AbAuto(level=config.significance, share=config.test_share, p_value=picked.p_value, waiting=waiting,
                      to_winner=to_winner, winner=picked.winner, kind=picked.kind, reason=picked.reason,
                      decided_at=picked.decided_at)
    test = weakest_test(groups) if tested and len(groups) > 1 else None
    return AbAuto(level=config.significance, share=config.test_share, p_value=test.p_value if test else None,
                  waiting=waiting, to_winner=0)
