"""The goal's numbers in the execution views (issue 16): the analysis panel's section (this round, the
component's branches) and the Execution Records drawer's (every round and version). Read from
engine.services.goal_results, which checks visibility; the uplift chart is Plotly figure JSON."""

from typing import Any

import reflex as rx

from engine.services import goal_results as svc
from marketing_app.states.service import run

GREEN, GRAY, INDIGO = "#30a46c", "#8b8d98", "#3e63dd"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def _uplift(numbers: svc.GoalNumbers) -> str:
    u = numbers.uplift
    if u is None:
        return "—"
    return f"{u.difference * 100:+.1f} pts [{u.low * 100:+.1f}, {u.high * 100:+.1f}]"


def _rate(rate: svc.Rate) -> str:
    return f"{rate.converted} / {rate.customers} · {_pct(rate.rate)}" if rate.customers else "—"


def row(numbers: svc.GoalNumbers) -> dict[str, str]:
    label = numbers.label if numbers.record_id is None else f"{numbers.label} · V{numbers.version_number}"
    return {"label": numbers.label, "shown": label, "entered": str(numbers.entered),
            "converted": str(numbers.all.converted), "treated": _rate(numbers.treated),
            "holdout": _rate(numbers.holdout), "uplift": _uplift(numbers), "exited": str(numbers.exited),
            "significant": "yes" if numbers.uplift is not None and numbers.uplift.significant else ""}


def uplift_figure(groups: list[svc.GoalNumbers]) -> dict[str, Any]:
    """The uplift (points) of each round or version with its 95 % interval as error bars."""
    shown = [g for g in reversed(groups) if g.uplift is not None]
    diffs = [g.uplift.difference * 100 for g in shown if g.uplift]
    lows = [g.uplift.low * 100 for g in shown if g.uplift] + [0.0]
    highs = [g.uplift.high * 100 for g in shown if g.uplift] + [0.0]
    pad = max(2.0, (max(highs) - min(lows)) * 0.1)
    return {
        "data": [{"type": "scatter", "mode": "markers+text", "x": [g.label for g in shown], "y": diffs,
                  "marker": {"color": INDIGO, "size": 10},
                  "error_y": {"type": "data", "symmetric": False,
                              "array": [(g.uplift.high - g.uplift.difference) * 100 for g in shown if g.uplift],
                              "arrayminus": [(g.uplift.difference - g.uplift.low) * 100 for g in shown if g.uplift],
                              "color": GRAY},
                  "text": [f"{d:+.1f}" for d in diffs], "textposition": "middle right", "cliponaxis": False,
                  "hovertemplate": "%{x}: %{y:+.1f} pts<extra></extra>"}],
        "layout": {"title": {"text": "Conversion uplift over the holdout (points, 95 % CI)", "x": 0.01,
                             "font": {"size": 13}},
                   "height": 220, "margin": {"l": 56, "r": 16, "t": 36, "b": 40},
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                   "font": {"family": "Inter, system-ui, sans-serif", "size": 11},
                   "xaxis": {"type": "category", "automargin": True},
                   "yaxis": {"title": {"text": "treated − holdout (pts)"}, "zeroline": True, "zerolinewidth": 2,
                             "range": [min(lows) - pad, max(highs) + pad],
                             "automargin": True},
                   "showlegend": False},
    }


class GoalView(rx.State, mixin=True):
    goal: str = ""  # "order_paid within 7 days" ("" = no goal set)
    holdout_pct: int = 0
    rows: list[dict[str, str]] = []  # rounds (the panel: its round)
    versions: list[dict[str, str]] = []
    branches: list[dict[str, str]] = []
    figure: dict[str, Any] = {}
    has_uplift: bool = False
    error: str = ""

    def show(self, report: svc.GoalReport, *, node_id: str | None = None) -> None:
        s = report.settings
        self.goal = f"{s.goal_event} within {s.goal_days} day{'s' if s.goal_days != 1 else ''}" if s.goal_event \
            else ""
        self.holdout_pct = s.holdout_pct
        rounds = [r for r in report.rounds if node_id is None or r.label == f"Round {report.branch_round}"]
        self.rows = [row(r) for r in rounds]
        self.versions = [row(v) for v in report.versions]
        self.branches = [{"node": b.node_label, "branch": b.branch_label, "routed": str(b.routed),
                          "converted": str(b.converted), "rate": _pct(b.rate), "id": f"{b.node_id}:{b.branch}"}
                         for b in report.branches if node_id is None or b.node_id == node_id]
        groups = rounds if node_id is not None else report.versions
        self.has_uplift = any(g.uplift is not None for g in groups)
        self.figure = uplift_figure(groups) if self.has_uplift else {}
        self.error = ""


class GoalPanelState(GoalView, rx.State):
    """The analysis panel's section: the round shown and the component's branches."""

    @rx.event
    async def load(self, record_id: int, node_id: str):
        rid = int(record_id)
        out = await run(self, lambda s, u: svc.goal_report_of_record(session=s, actor=u, record_id=rid))
        if not out.ok or out.value is None:
            self.error = out.error
            return out.problem() if out.signed_out else None
        self.show(out.value, node_id=str(node_id))
        return None


class GoalRecordsState(GoalView, rx.State):
    """The Execution Records drawer's section: every round and version of the activity."""

    @rx.event
    async def load(self, activity_id: int):
        aid = int(activity_id)
        out = await run(self, lambda s, u: svc.goal_report(session=s, actor=u, activity_id=aid))
        if not out.ok or out.value is None:
            self.error = out.error
            return out.problem() if out.signed_out else None
        self.show(out.value)
        return None
