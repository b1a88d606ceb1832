"""Action analysis panel of a component in an execution round (placeholder: being built)."""

import reflex as rx


class AnalysisState(rx.State):
    open: bool = False
    record_id: int = 0
    node_id: str = ""

    @rx.event
    def open_panel(self, record_id: int, node_id: str):
        self.record_id, self.node_id, self.open = record_id, node_id, True

    @rx.event
    def close_panel(self):
        self.open = False
