"""HTML5 drag and drop for the group tree, with no extra npm package.

`drag_box` is a div whose dragstart / dragend / drop call state events (the drop target's identity is in the
event's arguments, so no coordinates travel). The container's dragover handler runs in the browser only: it
allows dropping on elements marked `data-drop` and highlights the one under the pointer (`.drop-over`), so a
drag sends no event per mouse move.
"""

import reflex as rx
from reflex_base.event import no_args_event_spec
from reflex_base.vars.base import Var

_Div = type(rx.el.div())


class DragBox(_Div):  # type: ignore[misc, valid-type]
    """A div with the drag events the plain element does not declare."""

    on_drag_start: rx.EventHandler[no_args_event_spec]
    on_drag_end: rx.EventHandler[no_args_event_spec]
    on_drop: rx.EventHandler[no_args_event_spec]


drag_box = DragBox.create

_CLEAR = "(box) => box.querySelectorAll('.drop-over').forEach((el) => el.classList.remove('drop-over'))"

#: dragover: accept drops on [data-drop] and move the highlight to the target under the pointer
DRAG_OVER = Var(_js_expr=(
    "((e) => { const t = e.target.closest ? e.target.closest('[data-drop]') : null;"
    " e.currentTarget.querySelectorAll('.drop-over')"
    ".forEach((el) => { if (el !== t) el.classList.remove('drop-over'); });"
    " if (t) { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; t.classList.add('drop-over'); } })"
))
#: dragleave out of the container, drop and dragend: no highlight left behind
DRAG_LEAVE = Var(_js_expr=(
    f"((e) => {{ if (!e.currentTarget.contains(e.relatedTarget)) ({_CLEAR})(e.currentTarget); }})"
))
DRAG_DONE = Var(_js_expr=f"((e) => ({_CLEAR})(e.currentTarget))")
#: dragstart: some browsers need data in the transfer to start a drag at all
DRAG_START = Var(_js_expr=(
    "((e) => { e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', ''); })"
))


def drop_container(*children: rx.Component, **props) -> rx.Component:
    attrs = {"onDragOver": DRAG_OVER, "onDragLeave": DRAG_LEAVE, "onDropCapture": DRAG_DONE,
             "onDragEndCapture": DRAG_DONE}
    return rx.el.div(*children, custom_attrs=attrs, **props)
