"""The canvas's Dry run (issue 16): the dialog (sample size or one QAID) and what the run found, drawn on the
canvas as a badge per card (`badges`, in the canvas's execution-data shape) and per line (`badges["dry:edges"]`,
a key no node id can be: ids have no ':'), with the drops listed in a panel.

The run is `engine.services.dry_run.dry_run` on the canvas's present flow (saved or not), read-only: nothing is
sent or written. Its numbers are the flow as it was when run; Clear (or another run) replaces them.
"""

from typing import Any

import reflex as rx

from engine.services.dry_run import DEFAULT_SAMPLE, MAX_SAMPLE, DryRunResult, dry_run
from marketing_app.states.canvas import CanvasState
from marketing_app.states.service import run

EDGES_KEY = "dry:edges"


def _item(key: str, label: str, value: int, tone: str) -> dict[str, Any]:
    return {"key": key, "label": label, "value": f"{value:,}", "tone": tone if value else "zero"}


def badges(result: DryRunResult) -> dict[str, dict[str, Any]]:
    """node id → {kind, items, attrs, title} (the cards' bar), and EDGES_KEY → {edge id: count}."""
    out: dict[str, dict[str, Any]] = {}
    for node_id, node in result.nodes.items():
        items = [_item("reached", "would reach", node.reached, "blue")]
        attrs: dict[str, Any] = {"dry-reached": node.reached}
        if node.would_send or node.not_sent:
            items.append(_item("send", "would send", node.would_send, "green"))
            items.append(_item("not_sent", "not sent", node.not_sent, "red"))
            attrs |= {"dry-send": node.would_send, "dry-not-sent": node.not_sent}
        title = node.waits.capitalize() if node.waits else (f"First message: {node.message}" if node.message else
                                                            "Dry run: customers of the sample reaching this component")
        out[node_id] = {"kind": "dry", "trigger": False, "items": items, "attrs": attrs, "title": title}
    out[EDGES_KEY] = {edge: f"{count:,}" for edge, count in result.edges.items()}
    return out


class DryRunState(rx.State):
    dialog_open: bool = False
    sample_size: str = str(DEFAULT_SAMPLE)
    qaid: str = ""
    running: bool = False
    error: str = ""

    shown: bool = False  # a result is on the canvas
    data: dict[str, dict[str, Any]] = {}
    sample: str = ""
    entered: int = 0
    dropped: int = 0
    listed: int = 0
    ran_at: str = ""
    drops: list[dict[str, str]] = []
    reasons: list[dict[str, str]] = []
    notes: list[str] = []

    @rx.event
    def set_dialog_open(self, is_open: bool) -> None:
        self.dialog_open = is_open
        self.error = ""

    @rx.event
    def set_sample_size(self, value: str) -> None:
        self.sample_size = value

    @rx.event
    def set_qaid(self, value: str) -> None:
        self.qaid = value

    @rx.event
    def clear(self) -> None:
        self.shown = False
        self.data = {}
        self.drops, self.reasons, self.notes = [], [], []

    @rx.event
    async def start(self):
        """Run the dry run on the present flow; the dialog shows a refusal, the canvas the result."""
        canvas = await self.get_state(CanvasState)
        try:
            size = int(self.sample_size.strip().replace(",", ""))
        except ValueError:
            self.error = f"The sample is a number of customers, 1 to {MAX_SAMPLE:,}."
            return
        aid, flow, qaid = canvas.activity_id, canvas.flow, self.qaid.strip() or None
        self.running, self.error = True, ""
        yield
        out = await run(self, lambda s, u: dry_run(session=s, actor=u, activity_id=aid, sample_size=size,
                                                   qaid=qaid, flow=flow))
        self.running = False
        if out.signed_out:
            yield out.problem()
            return
        if out.error or out.value is None:
            self.error = out.error
            return
        self.show(out.value)
        self.dialog_open = False

    def show(self, result: DryRunResult) -> None:
        self.shown = True
        self.data = badges(result)
        self.sample, self.entered, self.dropped = result.sample, result.entered, result.dropped
        self.listed = len(result.drops)
        self.ran_at = result.ran_at.strftime("%H:%M:%S UTC")
        self.drops = [{"qaid": d.qaid, "name": d.name, "component": d.component, "node": d.node_id,
                       "reason": d.reason} for d in result.drops]
        self.reasons = [{"reason": reason, "count": f"{n:,}"} for reason, n in result.reasons.items()]
        self.notes = list(result.notes)
