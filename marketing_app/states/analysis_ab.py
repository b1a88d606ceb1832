"""The automatic AB winner's section of the action analysis panel (issue 16): what AnalysisState keeps of it,
as display text built from engine.services.ab_panel's answer (one var, `AnalysisState.ab_auto`)."""

from dataclasses import dataclass, field

from engine.components.ab_stats import LEVELS, MIN_OUTCOMES, GroupStat, p_text, testable
from engine.services import analysis as svc


@dataclass
class AbGroupRow:
    branch: str = ""
    name: str = ""
    customers: str = "0"
    conversions: str = "0"
    rate: str = "0.0 %"
    winner: bool = False


@dataclass
class AbAutoView:
    on: bool = False  # the component picks a winner by itself
    settings: str = ""  # "95 % significance · 20 % of the customers in the test"
    groups: list[AbGroupRow] = field(default_factory=list)
    confidence: str = "—"  # "98.8 %"
    p_value: str = "—"  # "p=0.012", "p<0.001"
    confidence_note: str = ""  # "at the pick" / "now"
    decided: bool = False
    winner: str = ""  # the group's name
    winner_branch: str = ""
    when: str = ""  # "2026-12-06 00:12 UTC"
    why: str = ""
    waiting: int = 0
    to_winner: int = 0
    status: str = ""  # one sentence of where the test stands


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def ab_auto_view(ab: svc.AbSummary | None) -> AbAutoView:
    auto = ab.auto if ab is not None else None
    if ab is None or auto is None:
        return AbAutoView()
    winner = next((g.name for g in ab.groups if g.branch == auto.winner), "")
    stats = [GroupStat(g.branch, g.name, g.inflow, g.achieved) for g in ab.groups]
    rows = [AbGroupRow(branch=g.branch, name=g.name, customers=f"{g.inflow:,}", conversions=f"{g.achieved:,}",
                       rate=_percent(g.rate), winner=bool(auto.winner) and g.branch == auto.winner)
            for g in ab.groups]
    view = AbAutoView(on=True, settings=f"{auto.level} % significance · {auto.share} % of the customers in the test",
                      groups=rows, decided=bool(auto.winner), winner=winner, winner_branch=auto.winner,
                      waiting=auto.waiting, to_winner=auto.to_winner, why=auto.reason,
                      when=auto.decided_at.strftime("%Y-%m-%d %H:%M UTC") if auto.decided_at else "")
    if auto.p_value is not None and auto.confidence is not None:
        view.p_value = p_text(auto.p_value)
        view.confidence = "> 99.9 %" if auto.confidence > 0.999 else _percent(auto.confidence)
        view.confidence_note = "at the pick" if auto.winner else "now"
    if auto.winner:
        view.status = f"{winner} won: {auto.reason}."
    elif auto.p_value is None:
        view.status = "Testing: no group can be compared yet (needs customers in every group)."
    elif auto.p_value < LEVELS[auto.level] and testable(stats):
        view.status = (f"Testing: significant at {auto.level} % ({view.p_value}): the scheduler's next pass (within "
                       "a minute) picks the winner.")
    elif auto.p_value < LEVELS[auto.level]:
        view.status = (f"Testing: {view.p_value}, but each group needs {MIN_OUTCOMES} conversions and "
                       f"{MIN_OUTCOMES} non-conversions before an early pick.")
    else:
        view.status = (f"Testing: not significant yet at {auto.level} % ({view.p_value}); the window's end picks "
                       "the best rate.")
    return view
