"""The campaign canvas as a Reflex component: React Flow (@xyflow/react) in one local JSX module.

assets/canvas/flow_canvas.jsx holds the component cards, the "+" stubs, the lines with their insert / scissors
buttons, the palette, the component menu and the top-right tools; this class only declares its props and its one
event, `on_action`, which carries coarse actions ({kind: "add", ...}) to the page state. Nothing is sent while a
card is dragged: the JSX reports the position when the drag stops. On a read-only canvas `execution` puts the
round's numbers above each card (`on_execution` when clicked) and `route` draws one customer's route green.
"""

from typing import Any

import reflex as rx
from reflex_base.event import passthrough_event_spec

#: pinned exactly: the canvas is tested against this version (`npm view @xyflow/react version` → 12.12.1)
XYFLOW = "@xyflow/react@12.12.1"
#: the layered layout of Tidy up and of flows opened without saved positions (assets/canvas/flow_layout.js,
#: imported on first use); pinned exactly like React Flow (`npm view elkjs version` → 0.12.1)
ELKJS = "elkjs@0.12.1"


class FlowCanvas(rx.Component):
    """`nodes` / `edges` come from marketing_app.states.canvas_model.view; `palette` from its palette().

    A plain (statically imported) component, not a NoSSR one: the module loads with the page instead of after
    the state has arrived, which takes a round trip off the cold open. It touches `window` / `document` only in
    effects and handlers, so the build's pre-rendering is fine with it."""

    library = "$/public/canvas/flow_canvas.jsx"
    tag = "FlowCanvas"
    lib_dependencies: list[str] = [XYFLOW, ELKJS]

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    palette: rx.Var[list[dict[str, Any]]]
    selected: rx.Var[str]
    rev: rx.Var[int]
    read_only: rx.Var[bool]
    preview: rx.Var[bool]
    copy_mode: rx.Var[str]
    can_undo: rx.Var[bool]
    can_redo: rx.Var[bool]
    dirty: rx.Var[bool]
    focus: rx.Var[dict[str, Any]]
    view_key: rx.Var[str]
    #: execution data of the round shown, node id → {kind, trigger, items, attrs, title} (states/execution.py)
    execution: rx.Var[dict[str, dict[str, Any]]]
    #: a customer's route, drawn green: {nodes: [ids], edges: ["source|branch|target"], qaid}
    route: rx.Var[dict[str, Any]]

    on_action: rx.EventHandler[passthrough_event_spec(dict[str, Any])]
    #: a component's execution data was clicked (its node id)
    on_execution: rx.EventHandler[passthrough_event_spec(str)]


flow_canvas = FlowCanvas.create
