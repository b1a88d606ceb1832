"""The automatic AB winner's section of the action analysis panel (issue 16): the settings, each group's test
customers, conversions and rate, the confidence and p-value, the pick — which group, when and why — and the
customers still waiting for it. Shown only for an AB Test that picks its winner by itself."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.analysis_ab import AbGroupRow

V = AnalysisState.ab_auto


def _cell(text: rx.Var | str, **props) -> rx.Component:
    return rx.table.cell(text, padding="6px 10px", **props)


def _group(row: rx.Var[AbGroupRow]) -> rx.Component:
    return rx.table.row(
        _cell(rx.hstack(rx.cond(row.winner, rx.icon("trophy", size=14, color="#b07d00")),
                        rx.text(row.name, weight=rx.cond(row.winner, "bold", "regular")), spacing="1",
                        align="center")),
        _cell(row.customers, text_align="right"),
        _cell(row.conversions, text_align="right"),
        _cell(row.rate, text_align="right", class_name="ab-rate"),
        custom_attrs={"data-branch": row.branch, "data-winner": rx.cond(row.winner, "true", "false")},
        background=rx.cond(row.winner, "var(--amber-a2)", "transparent"),
    )


def _groups() -> rx.Component:
    head = rx.table.header(rx.table.row(*[rx.table.column_header_cell(t, padding="6px 10px", text_align=a)
                                          for t, a in (("Group", "left"), ("Customers in the test", "right"),
                                                       ("Conversions", "right"), ("Rate", "right"))]))
    return rx.table.root(head, rx.table.body(rx.foreach(V.groups, _group)), size="1", width="100%",
                         id="ab-auto-groups")


def _stat(label: str, value: rx.Var, note: rx.Var | str, id_: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color=styles.MUTED),
        rx.text(value, size="4", weight="bold", id=id_),
        rx.text(note, size="1", color=styles.MUTED),
        spacing="0", padding="8px 12px", border=styles.BORDER, border_radius="8px", flex="1", min_width="0",
    )


def _decision() -> rx.Component:
    return rx.cond(
        V.decided,
        rx.callout(
            rx.vstack(
                rx.text("Winner picked automatically: ", rx.el.b(V.winner), size="2"),
                rx.text(V.when, size="1", color=styles.MUTED, id="ab-auto-when"),
                rx.text("Why: ", V.why, size="2", id="ab-auto-why"),
                spacing="1",
            ),
            icon="trophy", color_scheme="amber", size="1", width="100%", id="ab-auto-decision",
        ),
        rx.callout(V.status, icon="hourglass", color_scheme="gray", size="1", width="100%", id="ab-auto-testing"),
    )


def ab_auto_section() -> rx.Component:
    return rx.cond(
        V.on,
        rx.vstack(
            rx.hstack(
                rx.text("Automatic winner", class_name="analysis-section-title"),
                rx.spacer(),
                rx.text(V.settings, size="1", color=styles.MUTED, id="ab-auto-settings"),
                align="center", width="100%",
            ),
            _decision(),
            rx.hstack(
                _stat("Confidence", V.confidence, V.confidence_note, "ab-auto-confidence"),
                _stat("p-value", V.p_value, "best group vs the closest other", "ab-auto-p"),
                _stat("Waiting for the winner", V.waiting, "customers held at this component", "ab-auto-waiting"),
                _stat("Sent to the winner", V.to_winner, "after the pick", "ab-auto-to-winner"),
                spacing="2", width="100%",
            ),
            _groups(),
            spacing="3", width="100%", id="ab-auto",
            custom_attrs={"data-decided": rx.cond(V.decided, "true", "false"), "data-winner": V.winner,
                          "data-waiting": V.waiting},
        ),
    )
