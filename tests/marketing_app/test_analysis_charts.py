"""The action analysis panel's figures are valid Plotly (checked by plotly's own graph_objects), have titled
axes, say "no data yet" when there is none, and highlight the AB test's winner."""

from datetime import UTC, datetime

import plotly.graph_objects as go
import pytest

from engine.services import analysis as svc
from marketing_app.states import analysis_charts as charts


def _analysis(kind: str, **kw) -> svc.NodeAnalysis:  # noqa: ANN003
    base = dict(
        activity_id=1, activity_name="A", record_id=1, record_number=1, record_status="in_progress",
        record_status_label="In Progress", started_at=datetime.now(UTC), node_id="n", node={"type": "text_sms"},
        component_label="Text SMS", category="Marketing Touch", kind=kind, live=True, metrics={}, labels=[],
        funnel=[], timeline=svc.Timeline(unit="minute", buckets=[], series=[], counts=[]), reasons=[],
        clicks=None, ab=None, details_state=svc.DETAILS_OK, details_note="", can_generate_crowd=False)
    base.update(kw)
    return svc.NodeAnalysis(**base)


SEND_LABELS = [svc.Label("result:success", "result", "success", "Succeeded", 80, svc.SUCCESS),
               svc.Label("result:failed", "result", "failed", "Failed", 15, svc.FAILED),
               svc.Label("result:pending", "result", "pending", "No receipt yet", 5, svc.PENDING)]


def _send(**kw) -> svc.NodeAnalysis:  # noqa: ANN003
    return _analysis(
        svc.SEND, metrics={"entered": 100, "sent": 97, "success": 80, "failed": 12, "not_sent": 3, "pending": 5},
        labels=SEND_LABELS, funnel=[("Entered", 100), ("Actually sent", 97), ("Succeeded", 80)],
        timeline=svc.Timeline(unit="minute", buckets=["2026-11-27 08:00", "2026-11-27 08:01"],
                              series=["result:success", "result:failed", "result:pending"],
                              counts=[[50, 30], [10, 5], [3, 2]]),
        reasons=[("no phone number", 3), ("Rejected by the carrier", 12)],
        clicks=svc.Clicks(clicks=30, clickers=20, link_url="https://x.example"), can_generate_crowd=True, **kw)


def _valid(chart: charts.Chart) -> go.Figure:
    figure = go.Figure(chart.figure)  # raises on any attribute plotly does not know
    layout = chart.figure["layout"]
    assert layout["title"]["text"]
    return figure


def test_a_send_has_a_funnel_reasons_clicks_and_results_over_time() -> None:
    got = charts.charts(_send())
    assert [c.id for c in got] == ["chart-funnel", "chart-reasons", "chart-clicks", "chart-timeline"]
    for chart in got:
        assert chart.empty == ""
        _valid(chart)
    funnel, reasons, clicks, timeline = got
    assert funnel.figure["data"][0]["x"] == [100, 97, 80] and funnel.total == 100
    assert reasons.total == 15 and reasons.figure["layout"]["xaxis"]["title"]["text"] == "Customers"
    assert "25.0% of succeeded clicked" in clicks.figure["layout"]["title"]["text"]  # 20 clickers of 80
    assert clicks.figure["data"][0]["y"] == [80, 20, 30]
    assert timeline.wide and timeline.total == 100
    assert [t["name"] for t in timeline.figure["data"]] == ["Succeeded", "Failed", "No receipt yet"]
    assert [t["marker"]["color"] for t in timeline.figure["data"]] == [charts.GREEN, charts.RED, charts.AMBER]
    assert timeline.figure["layout"]["xaxis"]["title"]["text"] == "Time (UTC, per minute)"
    assert timeline.figure["layout"]["yaxis"]["title"]["text"] == "Customers"


def test_nothing_yet_says_so_instead_of_drawing_an_empty_chart() -> None:
    empty = _analysis(svc.SEND, labels=SEND_LABELS, funnel=[("Entered", 0), ("Actually sent", 0), ("Succeeded", 0)])
    got = charts.charts(empty)
    assert all(c.empty and not c.figure for c in got)
    assert "No data yet" in got[0].empty
    expired = _analysis(svc.SEND, labels=SEND_LABELS, metrics={"entered": 5}, details_state=svc.DETAILS_EXPIRED,
                        details_note=svc.EXPIRED_NOTE)
    assert charts.timeline(expired, {}).empty == svc.EXPIRED_NOTE


def test_the_ab_test_winner_is_highlighted() -> None:
    ab = svc.AbSummary(groups=[svc.AbGroup("group_1", "A", 50, 100, 5), svc.AbGroup("group_2", "B", 50, 100, 9)],
                       winner="group_2", target_event="purchase", window_hours=24)
    labels = [svc.Label("branch:group_1", "branch", "group_1", "A · 50%", 100, svc.BRANCH),
              svc.Label("branch:group_2", "branch", "group_2", "B · 50%", 100, svc.BRANCH)]
    got = charts.charts(_analysis(svc.AB, metrics={"entered": 200}, labels=labels, ab=ab))
    assert [c.id for c in got] == ["chart-ab-groups", "chart-ab-rate", "chart-timeline"]
    for chart in got[:2]:
        _valid(chart)
    rate = got[1].figure
    assert rate["data"][0]["y"] == [5.0, 9.0] and rate["data"][0]["x"] == ["A", "B ★"]
    assert rate["data"][0]["marker"]["color"] == [charts.INDIGO, charts.GOLD]
    assert "winner: B" in rate["layout"]["title"]["text"]
    assert rate["layout"]["yaxis"]["title"]["text"] == "Target rate (%)"


@pytest.mark.parametrize("kind", [svc.BRANCHES, svc.WAIT])
def test_branches_and_waits_show_customers_per_label(kind: str) -> None:
    labels = [svc.Label("branch:group_1", "branch", "group_1", "VIP", 30, svc.BRANCH),
              svc.Label("branch:others", "branch", "others", "Others", 70, svc.BRANCH)]
    got = charts.charts(_analysis(kind, metrics={"entered": 100}, labels=labels))
    assert got[0].id == "chart-branches"
    figure = _valid(got[0])
    assert list(figure.data[0].y) == [30, 70] and figure.data[0].text == ("30 (30%)", "70 (70%)")
