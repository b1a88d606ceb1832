"""The action analysis panel (placeholder: being built)."""

import reflex as rx

from marketing_app.states.analysis import AnalysisState


def analysis_panel() -> rx.Component:
    return rx.cond(AnalysisState.open, rx.box(id="analysis-panel"), rx.fragment())
