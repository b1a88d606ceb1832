"""Issue 16's UI helpers: the uplift figure is valid Plotly (checked by plotly's own graph_objects, as the
analysis charts are), rows read as the tables show them, and the dialog's typed values become the service's."""

import plotly.graph_objects as go

from engine.services.goal_results import GoalNumbers, Rate
from engine.shared.uplift import uplift
from marketing_app.states.goal_form import _number, _value
from marketing_app.states.goal_results import row, uplift_figure


def _numbers(label: str, treated: tuple[int, int], holdout: tuple[int, int]) -> GoalNumbers:
    found = GoalNumbers(label=label, version_number=1, entered=treated[1] + holdout[1],
                        treated=Rate(converted=treated[0], customers=treated[1]),
                        holdout=Rate(converted=holdout[0], customers=holdout[1]))
    found.uplift = uplift(*treated, *holdout)
    return found


def test_uplift_figure_is_valid_plotly_and_keeps_zero_in_view() -> None:
    groups = [_numbers("V2", (56, 70), (48, 80)), _numbers("V1", (3, 100), (0, 0))]
    figure = uplift_figure(groups)
    go.Figure(figure)  # raises on any attribute plotly does not know
    trace = figure["data"][0]
    assert trace["x"] == ["V2"]  # a group without a holdout has no uplift to draw
    assert trace["y"][0] == 100 * (56 / 70 - 48 / 80)
    low, high = figure["layout"]["yaxis"]["range"]
    assert low < 0 < high


def test_rows_read_as_the_tables_show_them() -> None:
    shown = row(_numbers("V1", (56, 70), (48, 80)))
    assert shown["treated"] == "56 / 70 · 80.0 %" and shown["holdout"] == "48 / 80 · 60.0 %"
    assert shown["uplift"] == "+20.0 pts [+5.2, +33.4]" and shown["significant"] == "yes"
    assert row(_numbers("V1", (3, 10), (0, 0)))["holdout"] == "—"


def test_typed_values_become_the_conditions_values() -> None:
    assert _value("eq", " true ") is True and _value("gt", "3") == 3 and _value("lt", "2.5") == 2.5
    assert _value("in", "gold, 3 ,") == ["gold", 3] and _value("exists", "anything") is None
    assert _number("7") == 7 and _number("seven") == -1 and _number("-2") == -1
