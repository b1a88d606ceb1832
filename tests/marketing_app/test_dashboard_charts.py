"""The Dashboard's figures are valid Plotly (checked by plotly's graph_objects), show what the series says,
and its display strings read right."""

from datetime import UTC, datetime

import plotly.graph_objects as go

from engine.services.dashboard import ChannelSeries, Totals, window
from marketing_app.states.dashboard import rate
from marketing_app.states.dashboard_charts import AMBER, GREEN, RED, channel_figure

HOURS = window(datetime(2026, 3, 2, 9, 41, tzinfo=UTC))


def _series(success: list[int], failed: list[int], pending: list[int]) -> ChannelSeries:
    sends = [a + b + c for a, b, c in zip(success, failed, pending, strict=True)]
    return ChannelSeries(type="text_sms", label="Text SMS", category="Marketing Touch", sends=sends,
                         success=success, failed=failed, pending=pending,
                         totals=Totals(sends=sum(sends), success=sum(success), failed=sum(failed),
                                       pending=sum(pending)))


def test_stacked_bars_one_colour_per_result_over_the_24_hours() -> None:
    zeros = [0] * 24
    series = _series([*zeros[:23], 90], [*zeros[:22], 1, 5], [*zeros[:23], 5])
    figure = channel_figure(series, HOURS)
    go.Figure(figure)  # raises on any attribute Plotly does not know
    assert [(t["name"], t["marker"]["color"]) for t in figure["data"]] == [
        ("Success", GREEN), ("Failed", RED), ("No receipt yet", AMBER)]
    assert figure["layout"]["barmode"] == "stack"
    assert [t["y"][-1] for t in figure["data"]] == [90, 5, 5] and figure["data"][1]["y"][-2] == 1
    assert figure["data"][0]["x"][0] == "2026-03-01 10:00" and figure["data"][0]["x"][-1] == "2026-03-02 09:00"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Hour (UTC)"
    assert figure["layout"]["yaxis"]["title"]["text"] == "Messages"
    assert "annotations" not in figure["layout"] and "dtick" not in figure["layout"]["yaxis"]
    small = channel_figure(_series([*zeros[:23], 2], zeros, [*zeros[:23], 1]), HOURS)
    assert small["layout"]["yaxis"]["dtick"] == 1  # three messages: whole-number ticks


def test_a_channel_without_sends_says_so() -> None:
    zeros = [0] * 24
    figure = channel_figure(_series(zeros, zeros, zeros), HOURS)
    go.Figure(figure)
    assert figure["layout"]["annotations"][0]["text"] == "No sends in the last 24 hours"


def test_rates() -> None:
    assert rate(None) == "—"
    assert rate(0.9243) == "92.4 %"
    assert rate(0.99996) == "99.9 %"  # never rounded up to a perfect score
    assert rate(1.0) == "100.0 %"
