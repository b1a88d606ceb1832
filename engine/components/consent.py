"""Consent at the moment of sending (issue 15): a touch to a customer who opted out of its channel is not sent.

The walk loads each customer's opt-outs with their profile (engine/runtime/consent_views.py: one query per
batch), so a batch without opted-out customers costs nothing more here. A batch with some stores their result
"opted_out" through the ports (`withhold`: one read and one atomic write, like a send's result), which also counts
them in the component's `opted_out` counter once per customer — not sent, not failed, not "not sent" — so the
counters add up at every instant. A redelivered walk keeps what a first attempt did: a customer it already sent
is answered by `send` as before, one it held back stays held back (their stored result) even if they opted in
since. Held-back customers continue on "out" like everyone who entered; their step row says "opted_out" with the
channel as the reason.
"""

from engine.components.base import Batch, Component, CustomerView, Ports
from engine.components.category import Category

OPTED_OUT = "opted_out"  # the step rows' result and the component's counter


def reason(label: str) -> str:
    return f"Opted out of {label}"


def hold_back(component: Component, batch: Batch, customers: list[CustomerView], ports: Ports,
              results: dict[int, tuple[str, str | None]]) -> list[CustomerView]:
    """The customers `component` may send to; the others get their result in `results`. Only Marketing Touch
    components ask for consent: a webhook or a Kafka push is not a message to the customer."""
    if component.category != Category.TOUCH:
        return customers
    channel = component.type
    held = [c.id for c in customers if channel in c.opted_out]
    if not held:
        return customers
    withhold = getattr(ports, "withhold", None)  # the runtime's ports; a dry run's simply leaves them out
    out = withhold(batch.record_id, batch.node_id, held, OPTED_OUT) if withhold is not None else set(held)
    why = reason(component.label)
    for cid in out:
        results[cid] = (OPTED_OUT, why)
    return [c for c in customers if c.id not in out] if out else customers
