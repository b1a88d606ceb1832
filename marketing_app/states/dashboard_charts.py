"""The Dashboard's channel charts, as Plotly figure JSON built from engine.services.dashboard.ChannelSeries.

Plain dicts in Plotly's figure format ({"data": [...], "layout": {...}}), which `rx.plotly` draws: cheap to
build on every refresh, and only what changed travels to the page. tests/marketing_app/test_dashboard_charts.py
validates them with plotly's graph_objects. One fixed colour per result, the same as the action analysis
panel's chips: success green, failed red, no receipt yet amber.
"""

from datetime import datetime, timedelta
from typing import Any

from engine.services.dashboard import ChannelSeries

GREEN, RED, AMBER = "#30a46c", "#e5484d", "#f5a524"
#: (series field, legend name, colour), stacked bottom to top: the stack's height is the hour's sends
RESULTS = [("success", "Success", GREEN), ("failed", "Failed", RED), ("pending", "No receipt yet", AMBER)]
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
HEIGHT = 240
_HOUR_MS = 3_600_000


def channel_figure(series: ChannelSeries, hours: list[datetime]) -> dict[str, Any]:
    """Stacked bars per hour (UTC): each bar spans its hour; hovering one gives the hour and its numbers."""
    starts = [h.strftime("%Y-%m-%d %H:%M") for h in hours]
    data = [{
        "type": "bar", "name": name, "x": starts, "y": getattr(series, field), "marker": {"color": colour},
        "xperiod": _HOUR_MS, "xperiodalignment": "middle", "width": _HOUR_MS * 0.8,
        "hovertemplate": f"{name}: %{{y:,}}<extra></extra>",
    } for field, name, colour in RESULTS]
    first, last = hours[0] - timedelta(minutes=20), hours[-1] + timedelta(hours=1, minutes=20)
    tallest = max(series.sends, default=0)
    layout: dict[str, Any] = {
        "barmode": "stack", "height": HEIGHT, "margin": {"l": 56, "r": 12, "t": 12, "b": 44},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Inter, system-ui, sans-serif", "size": 11, "color": "#60646c"},
        "xaxis": {"type": "date", "title": {"text": "Hour (UTC)", "standoff": 6},
                  "range": [first.strftime("%Y-%m-%d %H:%M"), last.strftime("%Y-%m-%d %H:%M")],
                  "tickformat": "%H:%M", "dtick": 3 * _HOUR_MS, "hoverformat": "%H:00–%H:59 UTC, %b %d",
                  "showgrid": False, "fixedrange": True},
        "yaxis": {"title": {"text": "Messages"}, "rangemode": "tozero", "tickformat": ",d", "gridcolor": "#e8e8ec",
                  "fixedrange": True, "automargin": True},
        "showlegend": False,  # the card's coloured figures above the chart are its legend
        "hovermode": "x unified" if series.totals.sends else False,
        "bargap": 0.1,
    }
    if tallest <= 5:  # whole messages only: no 0.5 ticks
        layout["yaxis"].update(range=[0, max(tallest, 1) * 1.15], dtick=1)
    if not series.totals.sends:
        layout["yaxis"]["showticklabels"] = False
        layout["annotations"] = [{"text": "No sends in the last 24 hours", "xref": "paper", "yref": "paper",
                                  "x": 0.5, "y": 0.5, "showarrow": False, "font": {"size": 13, "color": "#8b8d98"}}]
    return {"data": data, "layout": layout}
