"""The contract every component type implements: config schema, validation, output branches, executor.

One module per type in this package, each defining a `Component` subclass; `engine.components.registry`
collects them. Executors are pure over their inputs: the customers of one batch, the parsed config and a
`Ports` object through which ALL reads/writes outside the batch go (DB, channels, clock). The runtime
(engine.runtime) owns batching, counters, idempotency and routing; a component only decides.
"""

import builtins
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError

from engine.channels.base import Message, SendResult
from engine.components import secret
from engine.components.category import Category
from engine.components.meta import Meta


@dataclass(slots=True)  # not frozen (a million per large round): see engine.channels.base.Message
class CustomerView:
    """What an executor may know about a customer (loaded in bulk for a batch)."""

    id: int
    qaid: str
    name: str = ""
    phone: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    push_token: str | None = None
    timezone: str = "Asia/Shanghai"
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: the channels (touch component types) the customer opted out of (engine/components/consent.py)
    opted_out: frozenset[str] = frozenset()


@dataclass
class Batch:
    record_id: int
    node_id: str
    key: str  # deterministic batch key; also the seed of random splits together with the customer id
    customers: list[CustomerView]
    #: properties of the behaviour event that made each customer enter (Attribute Judgment reads these)
    trigger_props: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a component decided for a batch."""

    #: branch -> customer ids that continue on that branch (a customer in at most one branch)
    routes: dict[str, list[int]] = field(default_factory=dict)
    #: per-customer result for the details panel: (result, reason). Touch/data push: success / failed /
    #: pending; judgments: the branch name; anything not listed counts as "passed".
    results: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    #: Wait Until: (wake time, ids) — parked, then resumed on branch "out" by the scheduler
    parked: list[tuple[datetime, list[int]]] = field(default_factory=list)
    #: extra counters to add for this batch (e.g. AB test "targets_achieved")
    metrics: dict[str, int] = field(default_factory=dict)


class Ports(Protocol):
    """Everything outside the batch an executor may touch. The runtime passes a DB/Redis/channel-backed
    implementation; tests pass the same real implementation on a test database."""

    def now(self) -> datetime: ...

    def event_counts(self, customer_ids: list[int], name: str, since: datetime, until: datetime,
                     where: dict[str, Any] | None = None) -> dict[int, int]:
        """How many `name` events each customer did in [since, until] (customers with none may be left out).
        `where` filters on the event's properties: property -> value (equality), or property -> a list of
        {"op": ..., "value": ...} conditions, all of which must hold;
        `engine.components.conditions.matches_where(properties, where)` evaluates it for one event."""
        ...

    def audience_members(self, audience_id: int, customer_ids: list[int]) -> set[int]: ...

    def previous_results(self, record_id: int, node_id: str, customer_ids: list[int]) -> dict[int, str]:
        """Result of each customer at component `node_id` of this record (success / failed / pending /
        receipt status) — what Result Judgment reads."""
        ...

    def ab_winner(self, record_id: int, node_id: str) -> str | None:
        """AB Test with an automatic winner: the winning group's branch once the round's pick is made, else None
        (engine/runtime/ab_winner.py)."""
        ...

    def set_tag(self, customer_ids: list[int], tag: str, value: str) -> None: ...

    def add_to_audience(self, *, record_id: int, node_id: str, name: str, customer_ids: list[int]) -> int:
        """Add customers to the audience a Generate Audience component fills (created once per
        record and node); returns its id."""
        ...

    def send(self, messages: list[Message]) -> list[SendResult]:
        """Send through the message's channel, skipping any dedupe key already sent (idempotent)."""
        ...

    def short_links(self, *, record_id: int, node_id: str, url: str, customer_ids: list[int]) -> dict[int, str]:
        """Text SMS {short_link}: one short URL per (record, node, customer) that redirects to `url` and counts
        a click. Deterministic and idempotent: the code is `engine.components.text_sms.short_code(record_id,
        node_id, customer_id)`; the implementation stores code -> (record, node, customer, url) and returns
        its public base URL + "/" + code."""
        ...


class Component(ABC):
    """A component type: one module in this package defines a concrete subclass with the class attributes
    below, its `Config` (field widget hints via `engine.components.meta.hints`) and `execute`; the registry
    finds it there. Nothing else in the code base keys on its type name."""

    type: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[Category]
    Config: ClassVar[builtins.type[BaseModel]]  # builtins.: `type` in this class body is the attribute above
    #: how the canvas shows it: icon, palette blurb, summary line, starter config, ...
    meta: ClassVar[Meta]
    #: True for the types that hand messages to a channel (SendingComponent): their passages are stored per
    #: customer with a send result, and their counters include sent / success / failed / pending
    sends: ClassVar[bool] = False
    #: False for components that decide on customer ids alone (the runtime then does not load the customers'
    #: profiles and tags for them; their `CustomerView`s carry the id only)
    uses_profile: ClassVar[bool] = True

    def uses_attributes(self, config: Any) -> bool:
        """Does the executor read `CustomerView.attributes` for this config? (False lets the runtime skip
        parsing every customer's attribute JSON; the default is the safe answer.)"""
        return self.uses_profile

    def uses_tags(self, config: Any) -> frozenset[str] | None:
        """The tags the executor reads from `CustomerView.tags` for this config, None for any (the safe default
        of a component that reads profiles): the runtime loads only those."""
        return None if self.uses_profile else frozenset()

    def parse(self, raw: dict[str, Any]) -> BaseModel:
        return self.Config.model_validate(raw or {})

    def validate(self, raw: dict[str, Any]) -> list[str]:
        """Problems with the configuration, in words for the canvas (empty = configured). Field paths count
        list items from 1, like the branches (groups.1.conditions.2.value)."""
        try:
            config = self.parse(raw)
        except ValidationError as err:
            return [_describe(e) for e in err.errors()]
        return secret.problems(self.Config, raw) + self.check(config)

    def check(self, config: Any) -> list[str]:
        """Cross-field rules beyond the schema (e.g. ratios sum to 100)."""
        return []

    def audiences(self, raw: dict[str, Any]) -> list[int]:
        """The audiences whose members this component brings into the flow, from a raw config (the activity
        list's audience filter); only triggers that enter an audience name one."""
        return []

    def branches(self, config: Any) -> list[str]:
        return ["out"]

    def branches_of(self, raw: dict[str, Any]) -> list[str]:
        """Branches of a raw config, even an incomplete one (the canvas draws handles before it is valid)."""
        try:
            config = self.parse(raw)
        except ValidationError:
            return self.draft_branches(raw if isinstance(raw, dict) else {})
        return self.branches(config)

    def draft_branches(self, raw: dict[str, Any]) -> list[str]:
        """Best guess of the branches of an invalid config; components whose branches depend on it override."""
        return self.branches(None)

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """JSON schema of the config (titles, descriptions, limits) for generating the canvas form."""
        return cls.Config.model_json_schema()

    @abstractmethod
    def execute(self, batch: Batch, config: Any, ports: Ports) -> Outcome: ...


def _describe(error: Any) -> str:
    path = ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in error["loc"]) or "config"
    message = str(error["msg"]).removeprefix("Value error, ").replace(" after validation", "")
    if error["type"] == "missing":
        message = "required"
    return f"{path}: {message}"
