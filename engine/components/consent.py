"""Consent at the moment of sending (issue 15): a touch to a customer who opted out of its channel is not sent.

The walk loads each customer's opt-outs with their profile (engine/runtime/consent_views.py: one query per
batch), so deciding here costs no I/O — except for a batch that holds opted-out customers, whose earlier results
are read once (one Redis round trip): a redelivered walk keeps what a first attempt already sent, so nobody is
counted both sent and opted out. Held-back customers get the step result "opted_out" (the reason names the
channel), the component's counter `opted_out` — not sent, not failed, not "not sent" — and continue on "out"
like everyone else who entered.
"""

from engine.components.base import Batch, Component, CustomerView, Ports
from engine.components.category import Category

OPTED_OUT = "opted_out"  # the step rows' result and the component's counter


def reason(label: str) -> str:
    return f"Opted out of {label}"


def hold_back(component: Component, batch: Batch, customers: list[CustomerView], ports: Ports,
              results: dict[int, tuple[str, str | None]], metrics: dict[str, int]) -> list[CustomerView]:
    """The customers `component` may send to; the others get their result in `results` and are counted in
    `metrics` (only Marketing Touch components ask for consent: a webhook or Kafka push is not a message to the
    customer)."""
    if component.category != Category.TOUCH:
        return customers
    channel = component.type
    held = [c.id for c in customers if channel in c.opted_out]
    if not held:
        return customers
    already = ports.previous_results(batch.record_id, batch.node_id, held)  # a redelivered walk's sends stay
    out = {cid for cid in held if cid not in already}
    if not out:
        return customers
    why = reason(component.label)
    for cid in out:
        results[cid] = (OPTED_OUT, why)
    metrics[OPTED_OUT] = len(out)
    return [c for c in customers if c.id not in out]
