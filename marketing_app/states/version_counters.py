"""Counters per version (issue 16): the action analysis panel's "Per version" section and the canvas header's
"Counters per version" dialog. Both read engine.services.version_counters (which enforces visibility) for the
activity of the round shown, and show the version the selector chose ("All versions", "V2 (live)", ...): every
number carries its version's label, "—" where the component is not in that version, "≈" on an estimate."""

from typing import Any

import reflex as rx

from engine.services import version_counters as svc
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.service import run

EXACT_NOTE = "Unique customers are exact: counted from the customer details (kept 7 days)."
ESTIMATE_NOTE = ("≈ marks an estimate of unique customers (HyperLogLog, about ±1 %): the version is large or its "
                 "customer details have expired. Entries are always exact.")
UNION_NOTE = "All versions: entries add up; a customer of several versions is one unique customer."


def _cells(counters: svc.VersionCounters, row: svc.ComponentRow, version: str) -> dict[str, str]:
    shown = svc.describe(row.cell(version), version, counters)
    return {"node": row.node_id, "label": row.label, "version": shown["version"], "value": version,
            "entries": shown["entries"], "unique": shown["unique"], "kind": shown["kind"],
            "present": "true" if shown["present"] else "false", "removed": "true" if row.removed else "false"}


def view(counters: svc.VersionCounters, selected: str, node_id: str) -> dict[str, Any]:
    """The state's fields for one version choice (and the panel's component)."""
    options = [{"value": v, "label": label} for v, label in svc.selector_options(counters)]
    if selected not in {o["value"] for o in options}:
        selected = svc.ALL
    versions = [svc.ALL, *(str(v.version_id) for v in counters.versions)]
    row = counters.row(node_id)
    node_rows = [_cells(counters, row, v) for v in versions] if row is not None else []
    estimated = any(c.kind == svc.ESTIMATE for r in counters.components for c in [r.total, *r.cells.values()])
    return {
        "options": options, "selected": selected,
        "version_label": next(o["label"] for o in options if o["value"] == selected),
        "rows": [_cells(counters, r, selected) for r in counters.components],
        "node_rows": node_rows,
        "current": next((r for r in node_rows if r["value"] == selected), {}),
        "note": ESTIMATE_NOTE if estimated else EXACT_NOTE,
    }


class VersionCountersState(rx.State):
    record_id: int = 0
    node_id: str = ""  # the analysis panel's component
    selected: str = svc.ALL
    version_label: str = "All versions"
    options: list[dict[str, str]] = []
    rows: list[dict[str, str]] = []  # every component, in the selected version
    node_rows: list[dict[str, str]] = []  # the panel's component in every version (All first)
    current: dict[str, str] = {}  # the panel's component in the selected version
    note: str = ""
    error: str = ""
    dialog_open: bool = False

    async def _load(self) -> Any:
        rid, selected, node_id = self.record_id, self.selected, self.node_id
        out = await run(self, lambda s, u: view(svc.for_record(session=s, actor=u, record_id=rid), selected,
                                                node_id))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.error = out.error or "The counters per version are not available."
            return None
        self.error = ""
        for name, value in out.value.items():
            setattr(self, name, value)
        return None

    @rx.event
    async def follow_panel(self, _follow_id: str):
        """The analysis panel shows a component (LiveFollow's start: at its opening, and again after each snapshot
        the panel reads, so a live round's numbers move here too)."""
        panel = await self.get_state(AnalysisState)
        if not (panel.open and panel.record_id and panel.node_id):
            return None
        self.record_id, self.node_id = int(panel.record_id), str(panel.node_id)
        return await self._load()

    @rx.event
    def unfollow(self, _follow_id: str):
        """Nothing runs between two starts: each start reads once."""

    @rx.event
    async def open_dialog(self, record_id: int):
        """The canvas header's dialog: every component of the activity (the panel's component stays chosen)."""
        self.record_id, self.dialog_open = int(record_id), True
        return await self._load()

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    async def choose(self, value: str):
        self.selected = value
        return await self._load()

    @rx.event
    async def refresh(self):
        return await self._load()
