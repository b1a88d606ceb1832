"""The action analysis panel's charts, as Plotly figure JSON built from engine.services.analysis.NodeAnalysis.

Plain dicts in Plotly's figure format ({"data": [...], "layout": {...}}), which `rx.plotly` draws: building
them costs microseconds (no graph_objects validation on every refresh of a live round) and only what changed
is sent to the page. tests/marketing_app/test_analysis_charts.py validates every figure with plotly's own
graph_objects, so a wrong attribute cannot slip through.

Colours follow the result chips: success green, failed red, no receipt / waiting amber, branches a palette.
"""

from dataclasses import dataclass, field
from typing import Any

from engine.services import analysis as svc

GREEN, RED, AMBER, GRAY, INDIGO, GOLD = "#30a46c", "#e5484d", "#f5a524", "#8b8d98", "#3e63dd", "#f0a000"
BRANCH_COLORS = ["#3e63dd", "#12a594", "#8e4ec6", "#05a2c2", "#f76b15", "#d6409f", "#46a758", "#ab4aba",
                 "#0090ff", "#e54666"]
TONE_COLORS = {svc.SUCCESS: GREEN, svc.FAILED: RED, svc.PENDING: AMBER, svc.NEUTRAL: GRAY}
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
HEIGHT = 250
#: bar labels above the bars, upright, never clipped (a narrow bar would rotate its label inside)
OUTSIDE_TEXT = {"textposition": "outside", "textangle": 0, "cliponaxis": False}


@dataclass
class Chart:
    """One chart of the panel: `figure` is drawn unless `empty` says why there is nothing to draw."""

    id: str  # stable DOM id of the chart's container (chart-funnel, chart-timeline, ...)
    title: str
    figure: dict[str, Any] = field(default_factory=dict)
    empty: str = ""
    total: int = 0  # the chart's headline number, as a data attribute (tests, benchmark)
    wide: bool = False  # spans the panel's width


def label_colors(labels: list[svc.Label]) -> dict[str, str]:
    """Label key → colour: result tones by meaning, branches in palette order."""
    out: dict[str, str] = {}
    branch = 0
    for label in labels:
        if label.tone == svc.BRANCH:
            out[label.key] = BRANCH_COLORS[branch % len(BRANCH_COLORS)]
            branch += 1
        else:
            out[label.key] = TONE_COLORS.get(label.tone, GRAY)
    return out


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 13}},
        "height": HEIGHT, "margin": {"l": 56, "r": 16, "t": 36, "b": 48},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Inter, system-ui, sans-serif", "size": 11},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True, "rangemode": "tozero"},
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def _legend() -> dict[str, Any]:
    """A legend on its own line under the title (side by side they overlap in a half-width chart)."""
    return {"showlegend": True, "margin": {"l": 56, "r": 16, "t": 60, "b": 48},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left",
                       "font": {"size": 10}, "traceorder": "normal"}}


def funnel(a: svc.NodeAnalysis) -> Chart:
    names = [name for name, _ in a.funnel]
    values = [value for _, value in a.funnel]
    chart = Chart(id="chart-funnel", title="Send funnel", total=a.entered)
    if not a.entered:
        chart.empty = "No data yet: nobody has reached this component."
        return chart
    chart.figure = {"data": [{"type": "funnel", "y": names, "x": values, "textinfo": "value+percent initial",
                              "marker": {"color": [GRAY, INDIGO, GREEN]}, "connector": {"line": {"width": 0}},
                              "hovertemplate": "%{y}: %{x:,} customers<extra></extra>"}],
                    "layout": _layout("Send funnel: entered → actually sent → succeeded", "Customers", "")}
    return chart


def timeline(a: svc.NodeAnalysis, colors: dict[str, str]) -> Chart:
    t = a.timeline
    chart = Chart(id="chart-timeline", title="Results over time", total=sum(map(sum, t.counts)), wide=True)
    if not t.buckets:
        chart.empty = (a.details_note if a.details_state == svc.DETAILS_EXPIRED
                       else "No data yet: results appear here minute by minute.")
        return chart
    names = {label.key: label.name for label in a.labels}
    traces = [{"type": "bar", "name": names.get(key, key.partition(":")[2]), "x": t.buckets, "y": counts,
               "marker": {"color": colors.get(key, GRAY)},
               "hovertemplate": "%{x}<br>%{fullData.name}: %{y:,}<extra></extra>"}
              for key, counts in zip(t.series, t.counts, strict=True)]
    layout = _layout("Results over time", f"Time (UTC, per {t.unit})", "Customers", barmode="stack", **_legend())
    layout["xaxis"]["type"] = "category" if len(t.buckets) == 1 else "date"
    chart.figure = {"data": traces, "layout": layout}
    return chart


def reasons(a: svc.NodeAnalysis) -> Chart:
    total = sum(n for _, n in a.reasons)
    chart = Chart(id="chart-reasons", title="Failure reasons", total=total)
    if not a.reasons:
        chart.empty = (a.details_note if a.details_state == svc.DETAILS_EXPIRED
                       else "No failures so far." if a.entered else "No data yet.")
        return chart
    shown = [_short(reason) for reason, _ in a.reasons]
    chart.figure = {"data": [{"type": "bar", "orientation": "h", "y": shown, "x": [n for _, n in a.reasons],
                              "marker": {"color": RED}, "text": [f"{n:,}" for _, n in a.reasons],
                              "textposition": "auto", "customdata": [reason for reason, _ in a.reasons],
                              "hovertemplate": "%{customdata}: %{x:,}<extra></extra>"}],
                    "layout": _layout("Failure reasons", "Customers", "",
                                      yaxis={"autorange": "reversed", "automargin": True})}
    return chart


def clicks(a: svc.NodeAnalysis) -> Chart | None:
    if a.clicks is None:
        return None
    c = a.clicks
    succeeded = int(a.metrics.get("success", 0))
    rate = f" · {c.clickers / succeeded:.1%} of succeeded clicked" if succeeded else ""
    chart = Chart(id="chart-clicks", title="Short link clicks", total=c.clicks)
    if not a.entered:
        chart.empty = "No data yet: clicks on the short link appear here."
        return chart
    chart.figure = {"data": [{"type": "bar", "x": ["Succeeded", "Unique clickers", "Clicks"],
                              "y": [succeeded, c.clickers, c.clicks], "marker": {"color": [GREEN, INDIGO, "#05a2c2"]},
                              "text": [f"{succeeded:,}", f"{c.clickers:,}", f"{c.clicks:,}"], **OUTSIDE_TEXT,
                              "hovertemplate": "%{x}: %{y:,}<extra></extra>"}],
                    "layout": _layout(f"Short link clicks{rate}", "", "Customers / clicks")}
    return chart


def branches(a: svc.NodeAnalysis, colors: dict[str, str]) -> Chart:
    chart = Chart(id="chart-branches", title="Customers per branch", total=a.entered)
    if not a.entered:
        chart.empty = "No data yet: nobody has reached this component."
        return chart
    labels = a.labels
    chart.figure = {"data": [{"type": "bar", "x": [label.name for label in labels],
                              "y": [label.count for label in labels],
                              "marker": {"color": [colors[label.key] for label in labels]},
                              "text": [_share(label.count, a.entered) for label in labels], **OUTSIDE_TEXT,
                              "hovertemplate": "%{x}: %{y:,} customers<extra></extra>"}],
                    "layout": _layout("Customers per branch" if a.kind != svc.WAIT else "Waiting and released",
                                      "Branch" if a.kind != svc.WAIT else "", "Customers")}
    return chart


def ab_groups(a: svc.NodeAnalysis) -> list[Chart]:
    ab = a.ab
    assert ab is not None
    inflow = Chart(id="chart-ab-groups", title="Inflow and targets achieved", total=ab.total_inflow)
    rate = Chart(id="chart-ab-rate", title="Target rate", total=ab.total_achieved)
    if not ab.total_inflow:
        inflow.empty = rate.empty = "No data yet: nobody has reached this AB test."
        return [inflow, rate]
    names = [_group(g, ab.winner) for g in ab.groups]
    inflow.figure = {"data": [
        {"type": "bar", "name": "Inflow", "x": names, "y": [g.inflow for g in ab.groups], "marker": {"color": GRAY},
         "hovertemplate": "%{x}<br>Inflow: %{y:,}<extra></extra>"},
        {"type": "bar", "name": "Target achieved", "x": names, "y": [g.achieved for g in ab.groups],
         "marker": {"color": GREEN}, "hovertemplate": "%{x}<br>Target achieved: %{y:,}<extra></extra>"},
    ], "layout": _layout("Inflow and targets per group", "Group", "Customers", barmode="group",
                         **_legend())}
    rates = [round(100 * g.rate, 2) for g in ab.groups]
    win = f" · winner: {next(g.name for g in ab.groups if g.branch == ab.winner)}" if ab.winner else \
        " · no winner yet"
    rate.figure = {"data": [{"type": "bar", "x": names, "y": rates,
                             "marker": {"color": [GOLD if g.branch == ab.winner else INDIGO for g in ab.groups],
                                        "line": {"color": ["#9e6c00" if g.branch == ab.winner else INDIGO
                                                           for g in ab.groups], "width": 2}},
                             "text": [f"{r:.1f}%" for r in rates], "textposition": "auto",
                             "hovertemplate": "%{x}: %{y:.2f}% reached the target<extra></extra>"}],
                   "layout": _layout(f"Target rate ({ab.target_event or 'target'}){win}", "Group",
                                     "Target rate (%)")}
    return [inflow, rate]


def charts(a: svc.NodeAnalysis) -> list[Chart]:
    """The charts of a component kind, in the order the panel shows them."""
    colors = label_colors(a.labels)
    out: list[Chart] = []
    if a.kind == svc.SEND:
        out += [funnel(a), reasons(a)]
        link = clicks(a)
        if link is not None:
            out.append(link)
    elif a.kind == svc.AB:
        out += ab_groups(a)
    elif a.kind in (svc.BRANCHES, svc.WAIT):
        out.append(branches(a, colors))
        if a.reasons:
            out.append(reasons(a))
    elif a.reasons:
        out.append(reasons(a))
    out.append(timeline(a, colors))
    return out


def _group(group: svc.AbGroup, winner: str) -> str:
    return f"{group.name} ★" if group.branch == winner else group.name


def _share(count: int, total: int) -> str:
    return f"{count:,} ({count / total:.0%})" if total else f"{count:,}"


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
