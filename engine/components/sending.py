"""What Marketing Touch and Data Push components share: build one message per customer who has an address,
send them in one call, and let every entered customer continue on "out" (Result Judgment reads the results).
A customer without an address fails with the reason and is never sent."""

from collections.abc import Sequence
from typing import Any, ClassVar

from engine.channels.base import Message, SendStatus
from engine.components.base import Batch, Component, CustomerView, Outcome, Ports
from engine.components.consent import hold_back
from engine.components.splitting import unique
from engine.components.templating import BUILTINS, variables
from engine.components.unsubscribe import UNSUBSCRIBE_LINK

NO_RESULT = "the channel returned no result"
_STATUS_VALUES = {s: s.value for s in SendStatus}  # a status (member or its text) → its text, without Enum()
_NO_RESULT = (SendStatus.FAILED.value, NO_RESULT)  # an enum's .value is a property: read once, not per customer


class SendingComponent(Component):
    sends = True
    #: CustomerView attribute holding the address (None: the address comes from the config, e.g. a URL)
    address_field: ClassVar[str | None] = None
    #: failure reason for a customer without that address
    missing_reason: ClassVar[str] = "no address"

    def uses_attributes(self, config: Any) -> bool:
        """Only when a text of the config uses a variable that is not a built-in ({name}, {qaid}, {phone},
        {email}, {short_link}): other variables are read from the attributes (then tags); or when a data push
        sends the attributes."""
        if "attributes" in (getattr(config, "fields", None) or ()):
            return True
        return bool(_profile_variables(config))

    def uses_tags(self, config: Any) -> frozenset[str] | None:
        """A data push that sends the tags reads them all; a template's variable that is not a built-in may be a
        tag (templating reads the attributes, then the tags). A subclass that reads tags itself says which."""
        if "tags" in (getattr(config, "fields", None) or ()):
            return None
        return _profile_variables(config)

    def address(self, customer: CustomerView, config: Any) -> str | None:
        return getattr(customer, self.address_field) if self.address_field else None

    def address_problem(self, address: str) -> str | None:
        """Why a present address cannot be used (None = fine)."""
        return None

    def extras(self, batch: Batch, config: Any, ports: Ports,
               customers: list[CustomerView]) -> dict[int, dict[str, Any]]:
        """Per-customer extra template values computed for the whole batch at once (e.g. short links)."""
        return {}

    def message(self, batch: Batch, config: Any, customer: CustomerView, to: str, extra: dict[str, Any]) -> Message:
        raise NotImplementedError

    def execute(self, batch: Batch, config: Any, ports: Ports) -> Outcome:
        everyone = unique(batch.customers)
        results: dict[int, tuple[str, str | None]] = {}
        customers = hold_back(self, batch, everyone, ports, results)  # consent: opted out, not sent
        reachable: list[tuple[CustomerView, str]] = []
        for c in customers:
            to = self.address(c, config)
            to = str(to).strip() if to else ""
            if not to:
                results[c.id] = (SendStatus.FAILED.value, self.missing_reason)
            elif problem := self.address_problem(to):
                results[c.id] = (SendStatus.FAILED.value, problem)
            else:
                reachable.append((c, to))
        if reachable:
            extras = self.extras(batch, config, ports, [c for c, _ in reachable])
            messages = [self.message(batch, config, c, to, extras.get(c.id, {})) for c, to in reachable]
            sent = {m.customer_id for m in messages}
            for r in ports.send(messages):
                if r.customer_id in sent:
                    results[r.customer_id] = (_STATUS_VALUES.get(r.status) or SendStatus(r.status).value, r.reason)
            for m in messages:
                results.setdefault(m.customer_id, _NO_RESULT)
        # customers without a usable address fail but were never handed to a channel: not "actually sent"
        not_sent = len(customers) - len(reachable)
        return Outcome(routes={"out": [c.id for c in everyone]}, results=results, metrics={"not_sent": not_sent})


def _profile_variables(config: Any) -> frozenset[str]:
    """The variables of a config's texts read from the customer's attributes, then tags: not the built-ins, not
    the links."""
    return frozenset(name for text in _texts(config.model_dump()) for name in variables(text)
                     if name not in BUILTINS and name not in ("short_link", UNSUBSCRIBE_LINK))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    return []


def customer_payload(customer: CustomerView, fields: Sequence[str]) -> dict[str, Any]:
    """The customer fields a data push sends (customer_id and qaid always)."""
    payload: dict[str, Any] = {"customer_id": customer.id, "qaid": customer.qaid}
    for f in fields:
        value = getattr(customer, f)
        payload[f] = dict(value) if isinstance(value, dict) else value
    return payload
