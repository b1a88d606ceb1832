"""`LiveFollow` (assets/canvas/live_follow.jsx): while mounted, the server follows a record and pushes its changes.

Mounting sends `on_start(id)` (a page state's background follower, marketing_app/states/live.py); unmounting
(leaving the page, the round no longer live) sends `on_stop(id)`. `watch` names what is followed (e.g. the record
id): a new value restarts the follower. Nothing runs on a timer in the browser."""

import reflex as rx
from reflex_base.event import passthrough_event_spec


class LiveFollow(rx.Component):
    library = "$/public/canvas/live_follow.jsx"
    tag = "LiveFollow"

    watch: rx.Var[str]

    on_start: rx.EventHandler[passthrough_event_spec(str)]
    on_stop: rx.EventHandler[passthrough_event_spec(str)]


live_follow = LiveFollow.create
