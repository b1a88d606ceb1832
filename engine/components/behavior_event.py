"""Behaviour Event (trigger): a customer who performs an event N times within a window enters the flow.

Event-driven: the events service finds the matching in-progress activities from an index and asks the pure
helpers here — `event_matches` (is this incoming event one the trigger listens to?) and `qualifying` (which
of these customers did it at least N times within the window, via `Ports.event_counts`) — then makes batches
of the customers who qualify. The executor lets the whole batch through.
"""

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.conditions import FILTERS, MAX_CONDITIONS, PropertyCondition, matches_where, to_where
from engine.components.meta import Meta, SummaryContext
from engine.components.splitting import unique

EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")
MAX_WINDOW_HOURS = 24 * 366


def check_event_name(value: str) -> str:
    value = value.strip()
    if not EVENT_NAME.match(value):
        raise ValueError("an event name is letters, digits and _ . : - (e.g. add_to_cart)")
    return value


class BehaviorEventConfig(BaseModel):
    event: str = Field(min_length=1, max_length=60, title="Event", description="Event name, e.g. browse_h5")
    times: int = Field(1, ge=1, le=1000, title="Times", description="How many times the customer must do it")
    window_hours: int = Field(24, ge=1, le=MAX_WINDOW_HOURS, title="Within (hours)",
                              description="The N times must fall within this many hours")
    filters: list[PropertyCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS,
                                             title="Property filters",
                                             description="Only events whose properties meet all of these count",
                                             json_schema_extra=FILTERS)

    _event = field_validator("event")(check_event_name)


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"browse_h5 × 3 within 1 h"."""
    if not config.get("event"):
        return ""
    return f"{config['event']} × {config.get('times', 1)} within {config.get('window_hours', 24)} h"


class BehaviorEvent(Component):
    type = "behavior_event"
    label = "Behaviour Event"
    category = Category.TRIGGER
    Config = BehaviorEventConfig
    meta = Meta(icon="MousePointerClick", blurb="Enter when a customer does something", order=20, summary=summary)
    uses_profile = False

    def execute(self, batch: Batch, config: BehaviorEventConfig, ports: Ports) -> Outcome:
        return Outcome(routes={"out": [c.id for c in unique(batch.customers)]})


def event_matches(config: BehaviorEventConfig, name: str, properties: dict[str, Any] | None) -> bool:
    """Is an incoming event one this trigger counts (same name, property filters met)?"""
    return name == config.event and matches_where(properties, to_where(config.filters))


def window(config: BehaviorEventConfig, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(hours=config.window_hours), now


def did_event(ports: Ports, customer_ids: list[int], *, event: str, times: int, since: datetime, until: datetime,
              where: dict[str, Any] | None = None) -> set[int]:
    """Customers who did `event` at least `times` times in [since, until] (one Ports call for all)."""
    if not customer_ids:
        return set()
    wanted = set(customer_ids)
    counts = ports.event_counts(list(customer_ids), event, since, until, where)
    return {cid for cid, n in counts.items() if n >= times and cid in wanted}


def qualifying(config: BehaviorEventConfig, customer_ids: list[int], ports: Ports,
               now: datetime | None = None) -> set[int]:
    """Customers who did the trigger event at least `times` times within the window ending now."""
    since, until = window(config, now or ports.now())
    return did_event(ports, customer_ids, event=config.event, times=config.times, since=since, until=until,
                     where=to_where(config.filters))
