"""A client-side interval: calls `on_tick` every `interval` ms while it is mounted (assets/canvas/ticker.jsx).

The canvas mounts one while the round shown is In Progress, so live numbers are polled only while someone
looks at them: leaving the page, or the round ending (the page stops rendering it), stops the polling."""

import reflex as rx
from reflex_base.event import no_args_event_spec


class Ticker(rx.Component):
    library = "$/public/canvas/ticker.jsx"
    tag = "Ticker"

    interval: rx.Var[int]

    on_tick: rx.EventHandler[no_args_event_spec]


ticker = Ticker.create
